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
          view.zoom("fit-viewport", "auto");
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

  function drawAll() {
    section.querySelectorAll("[data-diagram-url]").forEach(draw);
  }

  drawAll();
  document.addEventListener("tracking:updated", drawAll);
})();
