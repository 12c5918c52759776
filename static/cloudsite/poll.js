// A job page that is still waiting polls its status JSON and reloads once the job has ended.
(function () {
  const box = document.querySelector("[data-status-url]");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const label = box.querySelector("[data-status-label]");
  const note = box.querySelector("[data-status-note]");
  // Waiting counts from submission (the page may be opened, or reloaded, much later).
  const created = Number(box.dataset.created);
  const started = created ? created * 1000 : Date.now();
  let delay = 500;

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (response.ok) {
        const job = await response.json();
        if (job.status !== "queued" && job.status !== "running") {
          window.location.reload();
          return;
        }
        const seconds = Math.round((Date.now() - started) / 1000);
        label.textContent = job.status;
        label.className = "status " + job.status;
        note.textContent = (job.note ? job.note + " · " : "") + "waiting " + seconds + " s";
      }
    } catch (error) {
      note.textContent = "connection lost, retrying…";
    }
    delay = Math.min(delay * 1.25, 3000);
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
