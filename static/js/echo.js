"use strict";

/* The echo page: the seed's ws.html with a log, a send box, the state and reconnection. */
(function () {
  const page = socketPage("echo", ".ws-send");
  if (!page) {
    return;
  }
  const { root, text, stateElement, form, input } = page;
  const log = root.querySelector(".ws-log");
  const connectButton = root.querySelector("[data-action=connect]");
  const disconnectButton = root.querySelector("[data-action=disconnect]");

  function addEntry(kind, label, body) {
    const item = timedItem("log-entry log-" + kind, new Date().toISOString(), [
      ["span", "log-kind", label],
      ["span", "log-body", body],
    ]);
    log.append(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function describe(data) {
    if (typeof data === "string") {
      return data;
    }
    return interpolate(text.textBinary, data.byteLength);
  }

  const socket = new ReconnectingSocket(root.dataset.wsPath, {
    onState(state, delay) {
      showSocketState(stateElement, text, state, delay);
      connectButton.disabled = state === "open" || state === "connecting";
      disconnectButton.disabled = state === "closed";
      if (state === "open") {
        addEntry("open", text.textOpenLog, socket.url);
      }
    },
    onMessage(data) {
      addEntry("received", text.textReceived, describe(data));
    },
    onClose(event) {
      addEntry("closed", text.textClosedLog, interpolate(text.textCloseCode, event.code));
    },
  });

  connectButton.addEventListener("click", () => socket.connect());
  disconnectButton.addEventListener("click", () => socket.close());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (socket.send(input.value)) {
      addEntry("sent", text.textSent, input.value);
      input.value = "";
    } else {
      addEntry("error", text.textError, text.textNotConnected);
    }
  });
  socket.connect();
})();
