"""Tests of genmodels.widgets: the live explorer redraws when a slider moves, the static one
holds one image per grid point and needs no server."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from genmodels.widgets import image_png, latent_explorer, static_latent_explorer


def position_decoder(z: np.ndarray) -> np.ndarray:
    """A fake decoder whose image shows where z is: a bright pixel at a z-dependent place."""
    z = np.asarray(z)
    images = np.zeros((len(z), 28, 28, 1), np.float32)
    rows = np.clip(np.round(13.5 + 4 * z[:, 1]), 0, 27).astype(int)
    cols = np.clip(np.round(13.5 + 4 * z[:, 0]), 0, 27).astype(int)
    images[np.arange(len(z)), rows, cols, 0] = 1.0
    return images


def decoded_pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def expected_pixels(z1: float, z2: float) -> np.ndarray:
    """What the live explorer should show at (z1, z2): the decoder's image at scale 6."""
    return decoded_pixels(image_png(position_decoder([[z1, z2]])[0], scale=6))


def test_image_png_round_trip_and_scale():
    image = np.zeros((28, 28, 1))
    image[3, 5] = 1.0
    pixels = decoded_pixels(image_png(image, scale=2))
    assert pixels.shape == (56, 56)
    assert pixels[6, 10] == 0 and pixels[0, 0] == 255  # dark ink on white


@pytest.mark.parametrize("bad", [np.zeros((2, 28, 28)), np.full((28, 28), 1.5), np.full((28, 28), np.nan)])
def test_image_png_rejects_bad_images(bad):
    with pytest.raises(ValueError, match=r"shape|\[0, 1\]"):
        image_png(bad)


def test_moving_a_slider_redraws_the_image():
    explorer = latent_explorer(position_decoder)
    z1, z2 = explorer.sliders
    first = explorer.image.value
    np.testing.assert_array_equal(decoded_pixels(first), expected_pixels(0, 0))
    z1.value = 2.0
    moved = explorer.image.value
    assert moved != first
    np.testing.assert_array_equal(decoded_pixels(moved), expected_pixels(2, 0))
    z2.value = -1.5
    np.testing.assert_array_equal(decoded_pixels(explorer.image.value), expected_pixels(2, -1.5))


def test_static_explorer_holds_every_grid_image_and_no_url():
    html = static_latent_explorer(position_decoder, limit=2.0, steps=5).data
    uris = re.findall(r"data:image/png;base64,[A-Za-z0-9+/=]+", html)
    grid_images = set(uris[1:])  # the first is the <img>'s initial src
    assert len(grid_images) == 25  # every grid point decodes to a different image
    assert uris[0] in grid_images
    assert "http" not in html  # nothing to fetch: works offline
    assert html.count('type="range"') == 2


def test_static_explorers_on_one_page_do_not_clash():
    first = static_latent_explorer(position_decoder, steps=3).data
    second = static_latent_explorer(position_decoder, steps=3).data
    ids = [re.search(r'id="([^"]+)"', html).group(1) for html in (first, second)]
    assert ids[0] != ids[1]
