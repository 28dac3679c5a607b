/* django-hardening: passkey (WebAuthn) buttons of the account pages.
 * A static file served from 'self' (CSP script-src 'self'; the pages have no inline script).
 * Buttons carry data-passkey="register|verify|login|remove" and their endpoints as data-*.
 */
(function () {
  "use strict";

  function decode(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function encode(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function status(text, isError) {
    var box = document.getElementById("passkey-status");
    if (!box) { return; }
    box.textContent = text;
    box.className = isError ? "error" : "message";
    box.hidden = false;
  }

  function send(url, body, method) {
    return fetch(url, {
      method: method || "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      if (response.status === 204) { return {}; }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.detail || ("HTTP " + response.status)); }
        return data;
      });
    });
  }

  function creationOptions(options) {
    options.challenge = decode(options.challenge);
    options.user.id = decode(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = decode(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = decode(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = decode(c.id); });
    return options;
  }

  function credentialJSON(credential) {
    var r = credential.response;
    var out = {
      id: credential.id,
      rawId: encode(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: encode(r.clientDataJSON) }
    };
    if (credential.authenticatorAttachment) { out.authenticatorAttachment = credential.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      if (r.userHandle) { out.response.userHandle = encode(r.userHandle); }
    }
    return out;
  }

  function checked(id) {
    var box = id ? document.getElementById(id) : null;
    return Boolean(box && box.checked);
  }

  var actions = {
    register: function (button) {
      var input = document.getElementById(button.dataset.nameInput);
      var name = input && input.value.trim() ? input.value.trim() : "passkey";
      return send(button.dataset.optionsUrl).then(function (data) {
        return navigator.credentials.create({ publicKey: creationOptions(data.publicKey) });
      }).then(function (credential) {
        return send(button.dataset.url, { name: name, credential: credentialJSON(credential) });
      }).then(function () {
        window.location.reload();
      });
    },
    verify: function (button) {
      return send(button.dataset.optionsUrl).then(function (data) {
        return navigator.credentials.get({ publicKey: requestOptions(data.publicKey) });
      }).then(function (credential) {
        return send(button.dataset.url, {
          credential: credentialJSON(credential),
          next: button.dataset.next || "",
          trust: checked(button.dataset.trustInput)
        });
      }).then(function (data) { window.location.assign(data.next); });
    },
    login: function (button) {
      return send(button.dataset.optionsUrl, { session: true }).then(function (data) {
        return navigator.credentials.get({ publicKey: requestOptions(data.publicKey) });
      }).then(function (credential) {
        return send(button.dataset.url, {
          credential: credentialJSON(credential), session: true, next: button.dataset.next || ""
        });
      }).then(function (data) { window.location.assign(data.next); });
    },
    remove: function (button) {
      return send(button.dataset.url, { id: Number(button.dataset.id) }, "DELETE").then(function () {
        window.location.reload();
      });
    }
  };

  function start(button) {
    var action = actions[button.dataset.passkey];
    if (!action) { return; }
    if (!window.PublicKeyCredential && button.dataset.passkey !== "remove") {
      button.disabled = true;
      return;
    }
    button.addEventListener("click", function () {
      button.disabled = true;
      status("Waiting for your passkey…", false);
      action(button).catch(function (error) {
        button.disabled = false;
        status("The passkey did not work: " + error.message, true);
      });
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(start);
}());
