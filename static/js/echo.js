"use strict";

/* The echo page: the seed's ws.html with a log, a send box, the state and reconnection. */
(function () {
  const root = document.getElementById("echo");
  if (!root) {
    return;
  }
  const text = root.dataset;
  const stateElement = root.querySelector(".ws-state");
  const log = root.querySelector(".ws-log");
  const form = root.querySelector(".ws-send");
  const input = form.querySelector("input");
  const connectButton = root.querySelector("[data-action=connect]");
  const disconnectButton = root.querySelector("[data-action=disconnect]");

  function addEntry(kind, label, body) {
    const now = new Date();
    const item = document.createElement("li");
    item.className = "log-entry log-" + kind;
    const time = document.createElement("time");
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString();
    const tag = document.createElement("span");
    tag.className = "log-kind";
    tag.textContent = label;
    const content = document.createElement("span");
    content.className = "log-body";
    content.textContent = body;
    item.append(time, " ", tag, " ", content);
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
      stateElement.dataset.state = state;
      if (state === "waiting") {
        stateElement.textContent = interpolate(text.textWaiting, Math.ceil(delay / 1000));
      } else {
        stateElement.textContent = text["text" + state[0].toUpperCase() + state.slice(1)];
      }
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
