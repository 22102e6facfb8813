"use strict";

/*
 * A chat room page: history, messages, presence, the live room list and errors over the room's
 * WebSocket. Text from users only ever reaches the page through textContent, never as markup.
 *
 * Nothing typed is lost: a message goes out with a client_id and stays pending until its own
 * `message` event (same client_id) comes back; a refused one (`error` event) goes back into
 * the input with the reason beside it; pending ones are sent again after a reconnect (the
 * server stores a (user, client_id) once). The translated texts are the root's data-text-*.
 */
(function () {
  const page = socketPage("chat", ".chat-send");
  if (!page) {
    return;
  }
  const { root, text, stateElement, form, input } = page;
  const sendButton = form.querySelector("button");
  const list = root.querySelector(".chat-messages");
  const errorElement = root.querySelector(".chat-error");
  const loggedOutElement = root.querySelector(".chat-logged-out");
  const reconnectButton = root.querySelector(".chat-reconnect");
  const presenceList = document.querySelector(".chat-presence");
  const roomList = document.querySelector(".chat-rooms");
  const me = root.dataset.username;
  const language = document.documentElement.lang || undefined;
  const shown = new Set();
  // client_id -> text, in the order sent (a Map keeps insertion order).
  const pending = new Map();
  const CLOSE_LOGGED_OUT = 4401;
  const CLOSE_UNAVAILABLE = 4503;
  let lastCloseCode = null;
  let loggedOut = false;

  // Pages -----------------------------------------------------------------------------------

  function showError(code, detail) {
    errorElement.dataset.code = code;
    errorElement.textContent = detail;
    errorElement.hidden = false;
  }

  function clearError() {
    errorElement.hidden = true;
    errorElement.textContent = "";
    delete errorElement.dataset.code;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Without randomUUID (plain HTTP on another host than localhost is not a secure context).
    const bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      bytes.forEach((_, index) => {
        bytes[index] = Math.floor(Math.random() * 256);
      });
    }
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  // Times and days ----------------------------------------------------------------------------

  function dayKey(date) {
    return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
  }

  function format(date, options) {
    try {
      return new Intl.DateTimeFormat(language, options).format(date);
    } catch (error) {
      return new Intl.DateTimeFormat(undefined, options).format(date);
    }
  }

  function dayLabel(date) {
    const today = new Date();
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (dayKey(date) === dayKey(today)) {
      return text.textToday;
    }
    if (dayKey(date) === dayKey(yesterday)) {
      return text.textYesterday;
    }
    return format(date, { dateStyle: "full" });
  }

  function timeLabel(date) {
    if (dayKey(date) === dayKey(new Date())) {
      return format(date, { timeStyle: "short" });
    }
    return format(date, { dateStyle: "medium", timeStyle: "short" });
  }

  /* A separator before the first message of each local day, the list being in id order. */
  function refreshDays() {
    list.querySelectorAll(".chat-day").forEach((separator) => separator.remove());
    let previous = null;
    list.querySelectorAll(".chat-message").forEach((item) => {
      const date = new Date(item.querySelector("time").dateTime);
      if (previous === null || dayKey(previous) !== dayKey(date)) {
        const separator = document.createElement("li");
        separator.className = "chat-day";
        separator.setAttribute("role", "separator");
        separator.textContent = dayLabel(date);
        list.insertBefore(separator, item);
      }
      previous = date;
    });
  }

  // Messages --------------------------------------------------------------------------------

  function messageItem(message) {
    const item = document.createElement("li");
    item.className = "chat-message";
    item.dataset.id = message.id;
    const sentAt = new Date(message.sent_at);
    const time = document.createElement("time");
    time.dateTime = message.sent_at;
    time.textContent = timeLabel(sentAt);
    time.title = format(sentAt, { dateStyle: "full", timeStyle: "medium" });
    const user = document.createElement("strong");
    user.className = "chat-user";
    if (message.user === null) {
      user.classList.add("chat-user-deleted");
      user.textContent = text.textDeletedUser;
    } else {
      user.textContent = message.user;
    }
    if (message.user === me) {
      item.classList.add("chat-own");
    }
    const body = document.createElement("span");
    body.className = "chat-text";
    body.textContent = message.text;
    item.append(time, " ", user, " ", body);
    return item;
  }

  function addMessage(message) {
    if (shown.has(message.id)) {
      return false;
    }
    shown.add(message.id);
    const item = messageItem(message);
    // Ids follow the order of storing; broadcasts from several server processes may not.
    let next = null;
    let other = list.lastElementChild;
    while (other !== null && (other.classList.contains("chat-day") || Number(other.dataset.id) > message.id)) {
      next = other;
      other = other.previousElementSibling;
    }
    list.insertBefore(item, next);
    return true;
  }

  /* The pending message that `event` answers: by client_id, or (a server that does not echo
     client ids) the oldest one, since a connection's frames are answered in order. */
  function answeredClientId(event) {
    if (typeof event.client_id === "string") {
      return pending.has(event.client_id) ? event.client_id : null;
    }
    if (event.client_id === undefined && pending.size > 0) {
      const [oldestId, oldestText] = pending.entries().next().value;
      if (event.type === "error" || (event.user === me && event.text === oldestText)) {
        return oldestId;
      }
    }
    return null;
  }

  function acknowledge(message) {
    const clientId = answeredClientId(message);
    if (clientId !== null) {
      pending.delete(clientId);
    }
  }

  function deleteMessage(id) {
    const item = list.querySelector(`.chat-message[data-id="${Number(id)}"]`);
    if (item) {
      item.remove();
      refreshDays();
    }
  }

  function resendPending() {
    for (const [clientId, pendingText] of pending) {
      socket.send(JSON.stringify({ type: "message", text: pendingText, client_id: clientId }));
    }
  }

  // Unread count in the tab title ----------------------------------------------------------

  const baseTitle = document.title;
  let unread = 0;

  function countUnread(message) {
    if (document.visibilityState === "hidden" && message.user !== me) {
      unread += 1;
      document.title = `(${unread}) ${baseTitle}`;
    }
  }

  function resetUnread() {
    if (document.visibilityState !== "hidden" && unread !== 0) {
      unread = 0;
      document.title = baseTitle;
    }
  }

  document.addEventListener("visibilitychange", resetUnread);
  window.addEventListener("focus", resetUnread);

  // Presence and the room list ----------------------------------------------------------------

  function showPresence(users) {
    presenceList.replaceChildren(
      ...users.map((name) => {
        const item = document.createElement("li");
        item.textContent = name;
        return item;
      }),
    );
  }

  function countText(messages) {
    return interpolate(messages === 1 ? text.textMessageOne : text.textMessageOther, messages);
  }

  function roomItem(room) {
    return Array.from(roomList.querySelectorAll("li[data-room]")).find(
      (item) => item.dataset.room === room,
    );
  }

  function showRoomActivity(event) {
    let item = roomItem(event.room);
    if (event.messages === 0) {
      if (item) {
        item.remove();
      }
    } else {
      if (!item) {
        item = document.createElement("li");
        item.dataset.room = event.room;
        const link = document.createElement("a");
        link.href = `${root.dataset.chatRoot}${encodeURIComponent(event.room)}/`;
        link.textContent = event.room;
        if (event.room === root.dataset.room) {
          link.setAttribute("aria-current", "page");
        }
        const count = document.createElement("span");
        count.className = "chat-count";
        item.append(link, " ", count);
      }
      item.querySelector(".chat-count").textContent = countText(event.messages);
      // Most recently active first, as the server lists them.
      roomList.prepend(item);
    }
    const empty = roomList.querySelector(".chat-rooms-empty");
    const hasRooms = roomList.querySelector("li[data-room]") !== null;
    if (hasRooms && empty) {
      empty.remove();
    } else if (!hasRooms && !empty) {
      const placeholder = document.createElement("li");
      placeholder.className = "chat-rooms-empty";
      placeholder.textContent = text.textNoRooms;
      roomList.append(placeholder);
    }
  }

  // The socket --------------------------------------------------------------------------------

  const handlers = {
    history(event) {
      event.messages.forEach((message) => {
        acknowledge(message);
        addMessage(message);
      });
      refreshDays();
      const last = list.lastElementChild;
      if (last) {
        last.scrollIntoView({ block: "nearest" });
      }
      // What was sent but never answered before the connection dropped (stored or not).
      resendPending();
    },
    message(event) {
      acknowledge(event);
      if (addMessage(event)) {
        refreshDays();
        list.lastElementChild.scrollIntoView({ block: "nearest" });
        countUnread(event);
      }
    },
    message_deleted(event) {
      deleteMessage(event.id);
    },
    room_activity: showRoomActivity,
    presence(event) {
      showPresence(event.users);
    },
    error(event) {
      const clientId = answeredClientId(event);
      if (clientId !== null) {
        const refused = pending.get(clientId);
        pending.delete(clientId);
        // Back into the input, ahead of anything typed since.
        input.value = input.value ? `${refused} ${input.value}` : refused;
      }
      showError(event.code, event.detail);
    },
  };

  function showLoggedOut() {
    loggedOut = true;
    const link = document.createElement("a");
    link.href = root.dataset.loginUrl;
    link.textContent = text.textLogIn;
    loggedOutElement.replaceChildren(text.textLoggedOut, " ", link);
    loggedOutElement.hidden = false;
    input.disabled = true;
    sendButton.disabled = true;
    reconnectButton.hidden = true;
  }

  const socket = new ReconnectingSocket(root.dataset.wsPath, {
    onState(state, delay) {
      if (state === "waiting" && lastCloseCode === CLOSE_UNAVAILABLE) {
        stateElement.dataset.state = state;
        stateElement.textContent = interpolate(text.textUnavailable, Math.ceil(delay / 1000));
      } else {
        showSocketState(stateElement, text, state, delay);
      }
      reconnectButton.hidden = loggedOut || state === "open" || state === "connecting";
      if (state === "open") {
        lastCloseCode = null;
        if (errorElement.dataset.code === "not_connected") {
          clearError();
        }
      } else {
        showPresence([]);
      }
    },
    onClose(event) {
      lastCloseCode = event.code;
      if (event.code === CLOSE_LOGGED_OUT) {
        showLoggedOut();
        return false; // retrying cannot bring the session back
      }
      return true;
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

  reconnectButton.addEventListener("click", () => socket.connect());

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value;
    if (!value.trim() || loggedOut) {
      return;
    }
    if (!socket.isOpen) {
      // The text stays in the input; the reason is said beside it.
      showError("not_connected", text.textNotConnected);
      return;
    }
    const clientId = newClientId();
    pending.set(clientId, value);
    socket.send(JSON.stringify({ type: "message", text: value, client_id: clientId }));
    clearError();
    input.value = "";
  });
  socket.connect();
})();
