// The process diagram of each licence on the tracking page: bpmn-js (vendor/bpmn-js, the viewer build) draws the
// BPMN the case runs, from GET /api/v1/applications/{id}/licences/{code}/process (engine/cases/diagram.py), and
// marks the steps done and the step it stands at. The steps are also listed as text on the page, so without
// JavaScript (the section stays hidden) nothing is lost. The live status (tracking-live.js) replaces the page's
// live part, diagrams included, and says so with a `tracking:updated` event: they are drawn again.
(function () {
  "use strict";
  if (!window.BpmnJS || !window.fetch) { return; }
  var viewers = new Map();  // canvas element -> its viewer (the live update replaces the canvases)
  var READABLE = 0.8;

  function draw(canvas) {
    return fetch(canvas.getAttribute("data-diagram-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (diagram) {
        var viewer = viewers.get(canvas);
        if (!viewer) {
          viewer = new window.BpmnJS({ container: canvas });
          viewers.set(canvas, viewer);
        }
        return viewer.importXML(diagram.bpmn_xml).then(function () {
          var shapes = viewer.get("elementRegistry");
          var view = viewer.get("canvas");
          diagram.done.forEach(function (id) { if (shapes.get(id)) { view.addMarker(id, "step-done"); } });
          diagram.current.forEach(function (id) { if (shapes.get(id)) { view.addMarker(id, "step-current"); } });
          var focus = diagram.current.concat(diagram.done.slice(-1));
          canvas.setAttribute("data-current", diagram.current.join(" "));
          canvas.setAttribute("data-focus", focus.join(" "));
          show(view, shapes, canvas, focus);
        });
      })
      .catch(function () {
        var failed = document.createElement("p");
        failed.className = "hint";
        failed.textContent = canvas.getAttribute("data-failed");
        canvas.replaceChildren(failed);
      });
  }

  // A wide screen sees the whole process; a phone sees the step it stands at, at a size that can be read (the
  // viewer build does not pan, and the whole process at a phone's width is too small to read).
  function show(view, shapes, canvas, focus) {
    view.zoom("fit-viewport", "auto");
    var element = focus.map(function (id) { return shapes.get(id); }).filter(Boolean)[0];
    if (canvas.clientWidth >= 600 || !element || view.zoom() >= READABLE) { return; }
    var width = canvas.clientWidth / READABLE;
    var height = canvas.clientHeight / READABLE;
    view.viewbox({ x: element.x + element.width / 2 - width / 2, y: element.y + element.height / 2 - height / 2,
                   width: width, height: height });
  }

  function drawAll() {
    var section = document.querySelector("[data-diagrams]");
    if (!section) { return; }
    section.hidden = false;
    viewers.forEach(function (viewer, canvas) {
      if (!canvas.isConnected) { viewer.destroy(); viewers.delete(canvas); }
    });
    section.querySelectorAll("[data-diagram-url]").forEach(draw);
  }

  // A turned phone or a resized window: frame each diagram again for its new size.
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      viewers.forEach(function (viewer, canvas) {
        var view = viewer.get("canvas");
        view.resized();
        show(view, viewer.get("elementRegistry"), canvas, (canvas.getAttribute("data-focus") || "").split(" "));
      });
    }, 150);
  });

  drawAll();
  document.addEventListener("tracking:updated", drawAll);
})();
