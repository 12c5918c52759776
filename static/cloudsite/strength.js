// The CloudPic form shows the strength slider's value next to its label.
(function () {
  const range = document.querySelector("input[type=range][name=strength]");
  const out = document.getElementById("strength-value");
  if (!range || !out) return;
  range.addEventListener("input", () => { out.textContent = range.value; });
})();
