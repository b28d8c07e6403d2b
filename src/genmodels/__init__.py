"""genmodels: the helper package of the executable textbook "Generative Models, Corrected".

Modules, one job each: ``data`` (Fashion-MNIST and 2-D mixtures), ``gan``, ``vae``,
``metrics``, ``training`` (seeding, checkpoints, resume), ``plots``, ``validation``
(clear errors for bad input) and ``exercises`` (automatic checks for coursework).
Importing the package is cheap; TensorFlow loads only with ``gan``, ``vae``, ``training`` or
``classifier``. Also: ``classifier`` (a small Fashion-MNIST CNN whose features the Fréchet
distance uses), ``history``, ``densities`` (1-D densities and divergences on a grid) and
``linear_gaussian`` for the theory chapters.
"""

__version__ = "0.1.0"
