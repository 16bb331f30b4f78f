// The child's check-in (issue 17): a "Read aloud" button per question, using the browser's
// own speech (speechSynthesis). The buttons stay hidden where speech is not available; the
// page works without this script.
(function () {
  "use strict";
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") {
    return;
  }
  function textOf(fieldset) {
    var parts = [];
    var question = fieldset.querySelector("legend [id$='-text']");
    if (question) {
      parts.push(question.textContent.trim());
    }
    fieldset.querySelectorAll(".kiosk-label").forEach(function (label) {
      parts.push(label.textContent.trim());
    });
    return parts.join(". ");
  }
  function start() {
    document.querySelectorAll("button.read-aloud[data-read]").forEach(function (button) {
      var fieldset = document.getElementById(button.getAttribute("data-read"));
      if (!fieldset) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        window.speechSynthesis.cancel();
        var utterance = new SpeechSynthesisUtterance(textOf(fieldset));
        utterance.lang = "en-GB";
        utterance.rate = 0.9;
        window.speechSynthesis.speak(utterance);
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
