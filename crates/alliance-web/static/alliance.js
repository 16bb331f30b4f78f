// Alliance's own script. Pages work without it; it only adds conveniences. No inline script
// anywhere: the Content-Security-Policy forbids it.
"use strict";

// "Hide screen": blanks the page at once when someone walks in (the button, or Escape twice
// within a second). The page underneath is not changed, so nothing typed is lost.
(function () {
  const button = document.getElementById("hide-screen");
  const cover = document.getElementById("screen-cover");
  const show = document.getElementById("show-screen");
  if (!button || !cover || !show) return;
  button.hidden = false;
  let lastEscape = 0;
  const title = document.title;
  function hide() {
    cover.hidden = false;
    document.body.classList.add("screen-hidden");
    document.title = "Alliance";
    show.focus();
  }
  function reveal() {
    cover.hidden = true;
    document.body.classList.remove("screen-hidden");
    document.title = title;
    button.focus();
  }
  button.addEventListener("click", hide);
  show.addEventListener("click", reveal);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const now = Date.now();
    if (now - lastEscape < 1000 && cover.hidden) hide();
    lastEscape = now;
  });
})();
