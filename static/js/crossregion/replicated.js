// A replicated evaluation session, watched live and read-only: poll the events endpoint every few
// seconds and append the new events; reload once the report arrives (its checks render server-side).
const table = document.getElementById("events");
if (table) {
  const body = table.querySelector("tbody");
  const url = table.dataset.url;
  const every = Math.max(1, Number(table.dataset.poll || 3)) * 1000;
  const hadReport = Boolean(table.dataset.report);
  let last = 0;
  for (const row of body.querySelectorAll("tr[data-seq]")) last = Math.max(last, Number(row.dataset.seq));

  const cell = (text, className) => {
    const td = document.createElement("td");
    if (className === "code") {
      const code = document.createElement("code");
      code.textContent = text;
      td.append(code);
    } else {
      if (className) td.className = className;
      td.textContent = text;
    }
    return td;
  };

  async function poll() {
    try {
      const response = await fetch(`${url}?after=${last}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        for (const event of data.events) {
          if (event.seq <= last) continue;
          const row = document.createElement("tr");
          row.dataset.seq = event.seq;
          row.append(cell(String(event.seq)), cell(event.at), cell(event.kind, "hash"), cell(JSON.stringify(event.payload), "code"), cell(String(event.batch)));
          body.append(row);
          last = event.seq;
        }
        const state = document.getElementById("sync-state");
        if (state) state.textContent = `${data.last_batch_seq} ${table.dataset.batches}，${data.last_event_seq} ${table.dataset.events}`;
        if (data.report_sha256 && !hadReport) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // The platform is unreachable for a moment: try again at the next tick.
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
}
