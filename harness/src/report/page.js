// The HTML conformance report's script (jobcheck::report::html): filters, and the evidence
// panel that a click on a cell opens (with the asciinema player for its recording).
(function () {
  "use strict";
  const $ = (s) => document.querySelector(s);
  const $$ = (s, root) => Array.from((root || document).querySelectorAll(s));
  const BAD = ".fail, .flaky, .bug, .new";

  // Filters: one shell (columns), one group (bodies), only rows with a FAIL/flaky/BUG cell.
  function apply() {
    const bad = $("#only-bad").checked;
    const group = $("#group").value;
    const shell = $("#shell").value;
    $$("#matrix [data-shell]").forEach((e) => { e.hidden = shell !== "" && e.dataset.shell !== shell; });
    $$("#matrix tbody").forEach((body) => {
      body.hidden = group !== "" && body.dataset.group !== group;
      let shown = 0;
      $$("tr.scenario", body).forEach((tr) => {
        const cells = $$("td.cell", tr).filter((c) => !c.hidden);
        tr.hidden = bad && !cells.some((c) => c.matches(BAD));
        if (!tr.hidden) shown += 1;
      });
      $$("tr.group", body).forEach((tr) => { tr.hidden = shown === 0; });
    });
  }

  // Opens the evidence of the pair numbered `i`; its replay starts at once.
  function open(i) {
    const section = document.getElementById("ev-" + i);
    if (!section) return;
    $$("#panel section").forEach((s) => { s.hidden = s !== section; });
    $$("#matrix td.selected").forEach((c) => c.classList.remove("selected"));
    const cell = $('#matrix td[data-pair="' + i + '"]');
    if (cell) cell.classList.add("selected");
    $("#panel").hidden = false;
    const replay = section.querySelector(".replay");
    if (replay && !replay.dataset.ready && window.AsciinemaPlayer) {
      const data = document.getElementById(replay.dataset.cast).textContent;
      window.AsciinemaPlayer.create({ data: data }, replay, {
        autoPlay: true, idleTimeLimit: 1, fit: "width", controls: true,
      });
      replay.dataset.ready = "1";
    }
    history.replaceState(null, "", "#" + encodeURIComponent(section.dataset.name));
  }

  function close() {
    $("#panel").hidden = true;
    $$("#matrix td.selected").forEach((c) => c.classList.remove("selected"));
    history.replaceState(null, "", location.pathname + location.search);
  }

  ["#only-bad", "#group", "#shell"].forEach((s) => $(s).addEventListener("change", apply));
  $("#matrix").addEventListener("click", (ev) => {
    const cell = ev.target.closest("td[data-pair]");
    if (cell) open(cell.dataset.pair);
  });
  $("#matrix").addEventListener("keydown", (ev) => {
    const cell = ev.target.closest("td[data-pair]");
    if (cell && ev.key === "Enter") open(cell.dataset.pair);
  });
  $("#close").addEventListener("click", close);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") close(); });
  // A link to a pair (`conformance.html#posix/x::bash`) opens it.
  if (location.hash.length > 1) {
    const name = decodeURIComponent(location.hash.slice(1));
    const section = $$("#panel section").find((s) => s.dataset.name === name);
    if (section) open(section.id.slice(3));
  }
  apply();
})();
