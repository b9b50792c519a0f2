// The requests log's live tail: one EventSource on /requests/stream (server-sent events,
// no polling); each committed request is added on top of the table. Text only, never HTML.
// The status sentences come translated from the page (data-live, data-reconnecting).
"use strict";
(function () {
  var table = document.getElementById("requests");
  var status = document.getElementById("tail-status");
  if (!table || !window.EventSource) return;
  var body = table.querySelector("tbody");
  var columns = ["at", "team", "connector", "user", "model", "deployment", "status",
                 "tokens", "cost", "latency", "ttft"];
  // The page's filters go along: the tail adds only rows the page itself would list.
  var source = new EventSource("/requests/stream" + window.location.search);
  source.addEventListener("open", function () { status.textContent = status.dataset.live; });
  source.addEventListener("error", function () { status.textContent = status.dataset.reconnecting; });
  source.addEventListener("usage", function (event) {
    var row = JSON.parse(event.data);
    var tr = document.createElement("tr");
    tr.dataset.requestId = row.request_id;
    columns.forEach(function (name) {
      var td = document.createElement("td");
      var text = row[name] == null ? "–" : String(row[name]);
      if (name === "at") {  // as the page's own rows: the language's text, ISO for machines
        var time = document.createElement("time");
        time.dateTime = row.at_iso;
        time.textContent = text;
        td.appendChild(time);
      } else {
        td.textContent = text;
      }
      if (["tokens", "cost", "latency", "ttft"].indexOf(name) >= 0) td.className = "num";
      tr.appendChild(td);
    });
    var empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  });
})();
