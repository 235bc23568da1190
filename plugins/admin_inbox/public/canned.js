// Canned replies in the reply box: typing "/" and the first letters of a shortcut offers the
// replies whose shortcut starts so (up/down to move, Enter or Tab to choose, Escape to close, or a
// click); choosing one puts its text in place of "/letters". The texts come filled for this
// conversation's contact from the server, as attributes of the page's list of canned replies
// (escaped there): nothing here builds markup from data, every text is set with textContent.
// Without JavaScript that list is still on the page, open to read and copy from.
(function () {
  'use strict';

  var box = document.getElementById('reply-text');
  var list = document.querySelector('[data-canned-list]');
  if (!box || !list) return;
  var replies = [];
  var sources = list.querySelectorAll('li[data-shortcut]');
  for (var i = 0; i < sources.length; i++)
    replies.push({ shortcut: sources[i].getAttribute('data-shortcut'), title: sources[i].getAttribute('data-title'),
                   text: sources[i].getAttribute('data-text'), element: sources[i] });

  var popup = document.createElement('ul');
  popup.id = 'canned-suggestions';
  popup.className = 'canned-suggestions';
  popup.setAttribute('role', 'listbox');
  popup.setAttribute('aria-label', list.querySelector('summary').textContent);
  popup.hidden = true;
  box.parentNode.insertBefore(popup, box.nextSibling);
  box.setAttribute('aria-autocomplete', 'list');
  box.setAttribute('aria-controls', popup.id);
  box.setAttribute('aria-expanded', 'false');

  var shown = [];
  var active = -1;
  var dismissed = null;  // the "/letters" Escape closed the list for, until the text changes

  // "/letters" just before the caret, at the start or after a space: what is being typed.
  function typed() {
    if (box.selectionStart !== box.selectionEnd) return null;
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|\s)\/([A-Za-z0-9_-]*)$/.exec(before);
    if (!match) return null;
    return { start: before.length - match[2].length - 1, word: match[2].toLowerCase() };
  }

  function close() {
    popup.hidden = true;
    shown = [];
    active = -1;
    box.setAttribute('aria-expanded', 'false');
    box.removeAttribute('aria-activedescendant');
  }

  function highlight(index) {
    active = index;
    var options = popup.children;
    for (var k = 0; k < options.length; k++) options[k].setAttribute('aria-selected', k === index ? 'true' : 'false');
    if (index >= 0) {
      box.setAttribute('aria-activedescendant', options[index].id);
      if (options[index].scrollIntoView) options[index].scrollIntoView({ block: 'nearest' });
    }
  }

  function open(word) {
    shown = replies.filter(function (reply) { return reply.shortcut.indexOf(word) === 0; }).slice(0, 8);
    popup.textContent = '';
    if (!shown.length) return close();
    shown.forEach(function (reply, index) {
      var option = document.createElement('li');
      option.id = 'canned-option-' + index;
      option.setAttribute('role', 'option');
      option.setAttribute('data-shortcut', reply.shortcut);
      var shortcut = document.createElement('bdi');
      shortcut.className = 'shortcut';
      shortcut.dir = 'ltr';
      shortcut.textContent = '/' + reply.shortcut;
      var title = document.createElement('bdi');
      title.className = 'title';
      title.textContent = reply.title;
      option.appendChild(shortcut);
      option.appendChild(document.createTextNode(' '));
      option.appendChild(title);
      // mousedown, not click: the reply box keeps its focus and its caret.
      option.addEventListener('mousedown', function (event) {
        event.preventDefault();
        choose(reply);
      });
      popup.appendChild(option);
    });
    popup.hidden = false;
    box.setAttribute('aria-expanded', 'true');
    highlight(0);
  }

  function choose(reply) {
    var at = typed();
    var start = at ? at.start : box.selectionStart;
    var end = box.selectionEnd;
    box.value = box.value.slice(0, start) + reply.text + box.value.slice(end);
    var caret = start + reply.text.length;
    box.focus();
    box.setSelectionRange(caret, caret);
    close();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function update() {
    var at = typed();
    if (!at) { dismissed = null; return close(); }
    var key = at.start + ':' + at.word;
    if (dismissed === key) return close();
    dismissed = null;
    open(at.word);
  }

  box.addEventListener('input', update);
  box.addEventListener('click', update);
  box.addEventListener('blur', function () { setTimeout(close, 0); });
  box.addEventListener('keydown', function (event) {
    if (popup.hidden || !shown.length) return;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      highlight((active + 1) % shown.length);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      highlight((active - 1 + shown.length) % shown.length);
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      if (active < 0) return;
      event.preventDefault();
      choose(shown[active]);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      var at = typed();
      if (at) dismissed = at.start + ':' + at.word;
      close();
    }
  });

  // The list under the box: a click on a reply inserts it where the caret is.
  replies.forEach(function (reply) {
    reply.element.setAttribute('tabindex', '0');
    reply.element.addEventListener('click', function () { choose(reply); });
    reply.element.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') { event.preventDefault(); choose(reply); }
    });
  });
})();
