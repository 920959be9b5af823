// The staff console's one script: passkey sign-in and enrolment (WebAuthn
// needs JavaScript). Everything else in the console works without it.
(function () {
  'use strict'
  const meta = document.querySelector('meta[name="csrf-token"]')
  const csrf = meta === null ? '' : meta.getAttribute('content')
  function post (url, body) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return {} }).then(function (json) {
          if (!response.ok) throw new Error(json.detail || 'The request failed (' + response.status + ').')
          return json
        })
      })
  }
  const boxes = document.querySelectorAll('[data-passkey]')
  Array.prototype.forEach.call(boxes, function (box) {
    const button = box.querySelector('button')
    const status = box.querySelector('.passkey-status')
    if (!window.PublicKeyCredential || !window.SimpleWebAuthnBrowser) {
      status.textContent = 'This browser cannot use passkeys.'
      return
    }
    const webauthn = window.SimpleWebAuthnBrowser
    button.disabled = false
    button.addEventListener('click', function () {
      button.disabled = true
      status.textContent = 'Waiting for your passkey…'
      const run = box.getAttribute('data-passkey') === 'sign-in'
        ? post('/console/passkey/sign-in-options', {}).then(function (start) {
          return webauthn.startAuthentication({ optionsJSON: start.options }).then(function (response) {
            return post('/console/passkey/sign-in', { challengeId: start.challengeId, response, next: box.getAttribute('data-next') || '/console' })
          })
        })
        : post('/console/passkey/registration-options', { token: box.getAttribute('data-token') }).then(function (start) {
          return webauthn.startRegistration({ optionsJSON: start.options }).then(function (response) {
            return post('/console/passkey/register', { token: box.getAttribute('data-token'), challengeId: start.challengeId, response })
          })
        })
      run.then(function (done) {
        status.textContent = 'Signed in.'
        window.location.assign(done.next)
      }, function (error) {
        status.textContent = error.name === 'NotAllowedError' ? 'The passkey was not used (cancelled or timed out). Try again.' : error.message
        button.disabled = false
      })
    })
  })
})()
