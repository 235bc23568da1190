// Live inbox and conversation pages: a Server-Sent Events stream says that something changed, and
// the page fetches its own URL again and swaps the regions marked data-live-region (the HTML is
// rendered and escaped by the server, so nothing here builds markup from data). EventSource
// reconnects by itself and sends Last-Event-ID; the server replays what was missed, or says
// "refresh" when it cannot. No polling: nothing is fetched unless the stream speaks.
(function () {
  'use strict';

  var root = document.querySelector('[data-live]');
  var TOPICS = ['message.received', 'message.queued', 'message.sent', 'message.status', 'conversation.updated', 'lead.created',
                'lead.updated', 'alert.raised', 'refresh'];

  function swapRegions(html) {
    var fresh = new DOMParser().parseFromString(html, 'text/html');
    var regions = document.querySelectorAll('[data-live-region][id]');
    for (var i = 0; i < regions.length; i++) {
      var replacement = fresh.getElementById(regions[i].id);
      if (replacement) regions[i].replaceWith(document.importNode(replacement, true));
    }
    document.dispatchEvent(new CustomEvent('inbox:refreshed'));
  }

  var pending = null;
  var inFlight = false;
  var again = false;
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (inFlight) { again = true; return; }
      inFlight = true;
      fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html) swapRegions(html); })
        .catch(function () {})
        .then(function () { inFlight = false; if (again) { again = false; refresh(); } });
    }, 150);
  }

  // An action's outcome (?done=1, ?error=...) is said once: the address loses it, so neither a
  // reload nor a live refresh (which fetches this address) shows "Done." again.
  if (window.history && window.history.replaceState && /[?&](done|error)=/.test(window.location.search)) {
    var params = new URLSearchParams(window.location.search);
    params.delete('done');
    params.delete('error');
    var query = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (query ? '?' + query : '') + window.location.hash);
  }

  // A form sent back (422) is shown at the address it was posted to: the page's own address goes
  // back in the bar, so that a reload and the live refresh fetch the page, not the action.
  var pageUrl = root && root.getAttribute('data-page');
  if (pageUrl && window.history && window.history.replaceState && window.location.pathname !== pageUrl)
    window.history.replaceState(null, '', pageUrl);

  if (root && window.EventSource) {
    var state = document.querySelector('[data-live-state]');
    var lostOnce = false;
    var source = new EventSource(root.getAttribute('data-live'));
    TOPICS.forEach(function (topic) { source.addEventListener(topic, refresh); });
    source.addEventListener('open', function () {
      if (state) state.hidden = true;
      root.setAttribute('data-live-connected', '1');
      if (lostOnce) refresh();  // whatever was missed and is no longer in the server's buffer
    });
    source.addEventListener('error', function () {
      lostOnce = true;
      root.removeAttribute('data-live-connected');
      if (state) state.hidden = false;
    });
    window.addEventListener('pagehide', function () { source.close(); });
  }

  // A form sends once: the button is disabled on submit (the server dedupes by idempotency key too).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.hasAttribute('data-once')) return;
    if (form.getAttribute('data-sent')) { event.preventDefault(); return; }
    form.setAttribute('data-sent', '1');
    var buttons = form.querySelectorAll('button[type=submit]');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  });

  // Template picker: the chosen template's fields (the others are disabled, so they are not
  // sent) and its preview, filled as the agent types. Text only: the preview never holds markup.
  function syncTemplate(select) {
    var sets = select.form.querySelectorAll('[data-template-fields]');
    for (var i = 0; i < sets.length; i++) {
      var chosen = sets[i].getAttribute('data-template-fields') === select.value;
      sets[i].hidden = !chosen;
      sets[i].disabled = !chosen;
    }
  }
  function fillPreview(fieldset) {
    var values = {};
    var inputs = fieldset.querySelectorAll('input[data-part]');
    for (var i = 0; i < inputs.length; i++)
      values[inputs[i].getAttribute('data-part') + ':' + inputs[i].getAttribute('data-variable')] = inputs[i].value;
    var parts = fieldset.querySelectorAll('[data-preview-part]');
    for (var j = 0; j < parts.length; j++) {
      var part = parts[j].getAttribute('data-preview-part');
      parts[j].textContent = parts[j].getAttribute('data-text').replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, function (whole, name) {
        var value = values[part + ':' + name];
        return value && value.trim() ? value : whole;
      });
    }
  }
  var pickers = document.querySelectorAll('[data-template-picker]');
  for (var p = 0; p < pickers.length; p++) {
    syncTemplate(pickers[p]);
    pickers[p].addEventListener('change', function (event) { syncTemplate(event.target); });
  }
  var fieldsets = document.querySelectorAll('[data-template-fields]');
  for (var f = 0; f < fieldsets.length; f++) {
    fillPreview(fieldsets[f]);
    fieldsets[f].addEventListener('input', function (event) { fillPreview(event.currentTarget); });
  }
})();
