// While an anthology build is queued or running, poll its status and reload when it ends.
(function () {
  const box = document.getElementById("build-status");
  if (!box || !["queued", "running"].includes(box.dataset.state)) return;
  const progress = box.querySelector("progress");
  async function poll() {
    const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const status = await response.json();
    if (status.state === "queued" || status.state === "running") {
      if (progress) { progress.value = status.percent; progress.textContent = status.percent + "%"; }
      setTimeout(poll, 1500);
    } else {
      window.location.reload();
    }
  }
  setTimeout(poll, 1500);
})();
