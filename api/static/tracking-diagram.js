// The process diagram of each licence on the tracking page: bpmn-js (vendor/bpmn-js, the viewer build) draws the
// BPMN the case runs, from GET /api/v1/applications/{id}/licences/{code}/process (engine/cases/diagram.py), and
// marks the steps done and the step it stands at. The steps are also listed as text on the page, so without
// JavaScript (the section stays hidden) nothing is lost.
(function () {
  "use strict";
  var section = document.querySelector("[data-diagrams]");
  if (!section || !window.BpmnJS || !window.fetch) { return; }
  section.hidden = false;
  var viewers = new Map();
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
          show(view, shapes, canvas, diagram.current.concat(diagram.done.slice(-1)));
          canvas.setAttribute("data-current", diagram.current.join(" "));
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
    section.querySelectorAll("[data-diagram-url]").forEach(draw);
  }

  drawAll();
  document.addEventListener("tracking:updated", drawAll);
})();
