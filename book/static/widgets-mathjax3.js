// ipywidgets' html-manager (widgets/embed.js) typesets widget labels with the MathJax 2
// API, MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]), which MathJax 3 lacks
// ("Cannot read properties of undefined (reading 'Queue')"). Map it onto MathJax 3.
// Installed on DOMContentLoaded (after the deferred MathJax script has run) and used on
// the window load event, when embed.js renders the widgets. Not touched by
// tools/vendor_static.sh.
document.addEventListener("DOMContentLoaded", () => {
  const mathjax = window.MathJax;
  if (!mathjax || mathjax.Hub || !mathjax.typesetPromise) return;
  mathjax.Hub = {
    Queue: (...jobs) => {
      for (const job of jobs) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          mathjax.typesetPromise([job[2]]).catch((error) => console.error(error));
        }
      }
    },
  };
});
