"use strict";

/*
 * A WebSocket that reconnects by itself with exponential back-off (0.5 s doubling up to 30 s,
 * jittered so that a restarted server is not hit by every client at once), until close() is
 * called. Used by echo.js and chat.js.
 */
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
      if (this.handlers.onClose) {
        this.handlers.onClose(event);
      }
      if (this.wanted) {
        this.scheduleReconnect();
      } else {
        this.handlers.onState("closed");
      }
    });
  }

  scheduleReconnect() {
    const base = Math.min(30000, 500 * 2 ** this.attempt);
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
