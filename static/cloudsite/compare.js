// The before/after slider: the enhanced photo is clipped to the right of the split.
(function () {
  const box = document.getElementById("compare");
  if (!box) return;
  const range = box.querySelector(".compare-range");
  const update = () => box.style.setProperty("--split", range.value + "%");
  range.addEventListener("input", update);
  update();
})();
