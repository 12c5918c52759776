// The before/after slider: the enhanced photo is clipped to the right of the split.
// Styles go through CSSOM (allowed by the CSP's style-src 'self'), never a style attribute.
(function () {
  const box = document.getElementById("compare");
  if (!box) return;
  const range = box.querySelector(".compare-range");
  const width = Number(box.dataset.width), height = Number(box.dataset.height);
  if (width && height) box.style.setProperty("aspect-ratio", width + " / " + height);
  const update = () => box.style.setProperty("--split", range.value + "%");
  range.addEventListener("input", update);
  // Arrow keys move the split by 5% (Shift: 1%), Home and End to either photo alone.
  range.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? 1 : 5;
    const moves = { ArrowLeft: -step, ArrowDown: -step, ArrowRight: step, ArrowUp: step };
    let value = Number(range.value);
    if (event.key in moves) value += moves[event.key];
    else if (event.key === "Home") value = 0;
    else if (event.key === "End") value = 100;
    else return;
    event.preventDefault();
    range.value = Math.min(100, Math.max(0, value));
    update();
  });
  update();
})();
