"use strict";

/*
 * A WebSocket that reconnects by itself with exponential back-off (0.5 s doubling up to 10 s,
 * jittered so that a restarted server is not hit by every client at once), until close() is
 * called or the page's onClose(event) answers false (a close code that retrying cannot fix,
 * such as the chat's 4401 "logged out"). Used by echo.js and chat.js, with the page helpers
 * below.
 */
const RECONNECT_MAX_DELAY_MS = 10000;

class ReconnectingSocket {
  constructor(path, handlers) {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    this.url = scheme + window.location.host + path;
    this.handlers = handlers;
    this.socket = null;
    this.wanted = false;
    this.attempt = 0;
    this.timer = null;
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  connect() {
    this.wanted = true;
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.socket !== null) {
      return;
    }
    this.handlers.onState("connecting");
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.handlers.onState("open");
    });
    socket.addEventListener("message", (event) => this.handlers.onMessage(event.data));
    socket.addEventListener("close", (event) => {
      this.socket = null;
      if (this.handlers.onClose && this.handlers.onClose(event) === false) {
        this.wanted = false;
      }
      if (this.wanted) {
        this.scheduleReconnect();
      } else {
        this.handlers.onState("closed");
      }
    });
  }

  scheduleReconnect() {
    const base = Math.min(RECONNECT_MAX_DELAY_MS, 500 * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.attempt += 1;
    this.handlers.onState("waiting", delay);
    this.timer = window.setTimeout(() => this.connect(), delay);
  }

  close() {
    this.wanted = false;
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.socket !== null) {
      this.socket.close(1000);
    } else {
      this.handlers.onState("closed");
    }
  }

  send(data) {
    if (!this.isOpen) {
      return false;
    }
    this.socket.send(data);
    return true;
  }
}

/* "%s" in a translated string replaced by a value. */
function interpolate(template, value) {
  return template.replace("%s", String(value));
}

/*
 * The parts every WebSocket page has: its root element (by id), the translated texts in the
 * root's data-text-* attributes, the state line and the send form. Null when the page has none.
 */
function socketPage(rootId, formSelector) {
  const root = document.getElementById(rootId);
  if (!root) {
    return null;
  }
  const form = root.querySelector(formSelector);
  return {
    root,
    text: root.dataset,
    stateElement: root.querySelector(".ws-state"),
    form,
    input: form.querySelector("input"),
  };
}

/* Show a ReconnectingSocket's state (onState's arguments), worded by the page's texts. */
function showSocketState(element, text, state, delay) {
  element.dataset.state = state;
  if (state === "waiting") {
    element.textContent = interpolate(text.textWaiting, Math.ceil(delay / 1000));
  } else {
    element.textContent = text["text" + state[0].toUpperCase() + state.slice(1)];
  }
}

/*
 * A list item "<time> part part" for a log or a chat: `parts` are [tag, className, text].
 * Text only ever goes in through textContent, never as markup.
 */
function timedItem(className, isoTime, parts) {
  const item = document.createElement("li");
  item.className = className;
  const time = document.createElement("time");
  time.dateTime = isoTime;
  time.textContent = new Date(isoTime).toLocaleTimeString();
  item.append(time);
  for (const [tag, partClass, partText] of parts) {
    const part = document.createElement(tag);
    part.className = partClass;
    part.textContent = partText;
    item.append(" ", part);
  }
  return item;
}
