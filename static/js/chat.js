"use strict";

/*
 * A chat room page: history, messages, presence and errors over the room's WebSocket.
 * Text from users only ever reaches the page through textContent, never as markup.
 */
(function () {
  const page = socketPage("chat", ".chat-send");
  if (!page) {
    return;
  }
  const { root, text, stateElement, form, input } = page;
  const list = root.querySelector(".chat-messages");
  const errorElement = root.querySelector(".chat-error");
  const presenceList = document.querySelector(".chat-presence");
  const shown = new Set();

  function showError(code, detail) {
    errorElement.dataset.code = code;
    errorElement.textContent = detail;
    errorElement.hidden = false;
  }

  function clearError() {
    errorElement.hidden = true;
    errorElement.textContent = "";
  }

  function addMessage(message) {
    if (shown.has(message.id)) {
      return;
    }
    shown.add(message.id);
    const item = timedItem("chat-message", message.sent_at, [
      ["strong", "chat-user", message.user],
      ["span", "chat-text", message.text],
    ]);
    item.dataset.id = message.id;
    // Ids follow the order of storing; broadcasts from several server processes may not.
    let next = null;
    let other = list.lastElementChild;
    while (other !== null && Number(other.dataset.id) > message.id) {
      next = other;
      other = other.previousElementSibling;
    }
    list.insertBefore(item, next);
    item.scrollIntoView({ block: "nearest" });
  }

  function showPresence(users) {
    presenceList.replaceChildren(
      ...users.map((name) => {
        const item = document.createElement("li");
        item.textContent = name;
        return item;
      }),
    );
  }

  const handlers = {
    history(event) {
      event.messages.forEach(addMessage);
    },
    message: addMessage,
    presence(event) {
      showPresence(event.users);
    },
    error(event) {
      showError(event.code, event.detail);
    },
  };

  const socket = new ReconnectingSocket(root.dataset.wsPath, {
    onState(state, delay) {
      showSocketState(stateElement, text, state, delay);
      form.querySelector("button").disabled = state !== "open";
      if (state !== "open") {
        showPresence([]);
      }
    },
    onMessage(data) {
      let event;
      try {
        event = JSON.parse(data);
      } catch (error) {
        return;
      }
      const handle = handlers[event.type];
      if (handle) {
        handle(event);
      }
    },
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value;
    if (!value.trim()) {
      return;
    }
    if (socket.send(JSON.stringify({ type: "message", text: value }))) {
      clearError();
      input.value = "";
    } else {
      showError("not_connected", text.textNotConnected);
    }
  });
  socket.connect();
})();
