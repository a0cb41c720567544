"""A second scan simulator, made of Augraphy's augmentations: a degrader this project did not write.

`extractor.synth.degrade` is our own simulator, and the cell reading was tuned on its pages. This
module degrades the same clean renders with Augraphy (the `augraphy` package): its ink phase (low
ink lines, ink bleed, letterpress holes, bleed-through from the back of the sheet), its paper
phase (paper texture and tone) and its post phase (bad photocopy, dirty drum, dirty rollers and
fax thresholding on hard pages, folds, lighting and brightness, a shadow, noise, JPEG) and its
geometric warps (placement on the glass: a small rotation, shift and scale; folds warp the page
locally), and on hard pages a perspective tilt by albumentations (another library we did not
write: Augraphy has no keystone). The
levels match ours in spirit (see :class:`extractor.synth.degrade.ScanLevel`): ``clean`` is a good
office scanner, ``typical`` an ordinary archive scan, ``hard`` a poor copy of a copy.

Geometry. Augraphy moves keypoints along with the pixels in every augmentation that moves pixels
(``Geometric``, ``Folding``). A grid of keypoints (every 24 px across, 96 px down) goes through
the pipeline with the page; :class:`GridWarp` interpolates between the moved grid points, so any
box or point of the clean render can be mapped onto the scan (exact for the rotation, shift and
scale, which are affine, but for Augraphy's rounding to whole pixels; within a few pixels at a
fold, whose warp is piecewise). Augraphy's
rotation enlarges the image; the page is padded first (a light scanner lid) and cut back to its
own size, centred, so the scan keeps the size of the render.

Determinism. Augraphy draws from Python's `random`, NumPy's global generator, OpenCV's RNG and,
inside its numba-compiled functions, numba's own copies of the first two. All four are seeded
from the page's seed, and Python's and NumPy's states are put back afterwards, so the same seed
gives the same page whatever ran before, and nothing else in the process sees its generators
moved. Augraphy also keeps copies of the images it sees in ``./augraphy_cache`` (bleed-through
reads the "back of the sheet" from there): each page runs in a fresh temporary directory, so that
folder holds this page only and nothing is written where the caller runs.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import tempfile
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from extractor.synth.degrade import ScanLevel

_log = logging.getLogger(__name__)

# Spacing of the keypoint grid that records Augraphy's geometric warps, page pixels: a fold's
# shift changes along x, so columns are dense; rotation, shift and scale are affine, which the
# bilinear map between grid points reproduces exactly. (Augraphy deep-copies the keypoints
# before each augmentation: a dense grid both ways cost 1.7 s a page.)
_GRID_STEP_X_PX = 24
_GRID_STEP_Y_PX = 96
# Grey of the scanner lid around the page once it is turned, RGB (slightly darker than paper).
_LID_RGB = (232, 232, 230)
# Largest rotation per level, whole degrees (Augraphy's Geometric draws whole degrees).
_MAX_ROTATION_DEG = {ScanLevel.CLEAN: 0, ScanLevel.TYPICAL: 1, ScanLevel.HARD: 2}
# Largest placement shift per axis per level, as a fraction of the page width.
_MAX_SHIFT = {ScanLevel.CLEAN: 0.0, ScanLevel.TYPICAL: 0.006, ScanLevel.HARD: 0.012}
# Scale range of the copier/scanner per level (Augraphy scales only when neither end is 1).
_SCALE = {ScanLevel.CLEAN: (1.0, 1.0), ScanLevel.TYPICAL: (0.995, 1.005), ScanLevel.HARD: (0.98, 1.01)}
# Perspective tilt per level: the range of the spread of the corners' moves, as a fraction of the
# page size (albumentations' `Perspective.scale`; Augraphy 8.2.6 has no keystone of its own).
# Hard pages' corners move ~0.5-1.6% of the page: a page not flat on the glass, or photographed.
_PERSPECTIVE = {ScanLevel.CLEAN: None, ScanLevel.TYPICAL: None, ScanLevel.HARD: (0.004, 0.008)}


@dataclass(frozen=True)
class GridWarp:
    """Where Augraphy moved each point of a regular grid over the clean page.

    Coordinates are continuous page pixels, origin at the top-left corner of the page (the
    convention of :class:`extractor.datamodel.BBox`); Augraphy rounds keypoints to whole pixels,
    so a mapped point is good to about half a pixel per geometric step.
    """

    xs: np.ndarray  # float64 (nx,): grid columns on the clean page
    ys: np.ndarray  # float64 (ny,): grid rows on the clean page
    dst: np.ndarray  # float64 (ny, nx, 2): where each grid point lies on the scan, (x, y)

    def map_points(self, points: np.ndarray) -> np.ndarray:
        """Map (n, 2) points of the clean page onto the scan, bilinearly between grid points.

        Points outside the grid are extrapolated from the nearest grid cell (the warps are
        affine near the page edges).
        """
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        fx = np.interp(pts[:, 0], self.xs, np.arange(len(self.xs)), left=np.nan, right=np.nan)
        fy = np.interp(pts[:, 1], self.ys, np.arange(len(self.ys)), left=np.nan, right=np.nan)
        fx = np.where(np.isnan(fx), _extrapolated_index(pts[:, 0], self.xs), fx)
        fy = np.where(np.isnan(fy), _extrapolated_index(pts[:, 1], self.ys), fy)
        i0 = np.clip(np.floor(fx).astype(int), 0, len(self.xs) - 2)
        j0 = np.clip(np.floor(fy).astype(int), 0, len(self.ys) - 2)
        tx, ty = (fx - i0)[:, None], (fy - j0)[:, None]
        d = self.dst
        top = d[j0, i0] * (1 - tx) + d[j0, i0 + 1] * tx
        bottom = d[j0 + 1, i0] * (1 - tx) + d[j0 + 1, i0 + 1] * tx
        return top * (1 - ty) + bottom * ty

    def map_box(self, bbox: list[float] | tuple) -> list[float]:
        """The axis-aligned box enclosing the mapped corners of `bbox` ([x1, y1, x2, y2])."""
        x1, y1, x2, y2 = (float(v) for v in bbox)
        mapped = self.map_points(np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]]))
        lo, hi = mapped.min(axis=0), mapped.max(axis=0)
        return [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]


@dataclass(frozen=True)
class AugraphyScanResult:
    """A page degraded by Augraphy and the map from clean-render pixels to scan pixels."""

    image: Image.Image  # RGB, same size as the input page
    warp: GridWarp


def scan_page_augraphy(image: Image.Image, level: ScanLevel | str, seed: int) -> AugraphyScanResult:
    """Degrade a clean page render with Augraphy's ink, paper and post phases.

    Steps:
        1. Seed Python's, NumPy's, OpenCV's and numba's generators from `seed` (Augraphy draws
           from all four) and build the level's pipeline (some augmentations draw when built).
        2. Run the page (BGR, as Augraphy expects) through it with a keypoint grid, in a fresh
           temporary working directory (Augraphy's image cache).
        3. Cut the turned, padded page back to the input size around its centre and shift the
           keypoints with it.
        4. Hard pages: tilt the page in perspective with albumentations (keypoints follow).

    Args:
        image: The clean page, any mode (converted to RGB), typically A4 at 200 dpi.
        level: clean, typical or hard.
        seed: Seed of every random draw of this page; the same seed gives the same scan.

    Returns:
        The degraded RGB page (same size as the input) and the grid map of its geometry.
    """
    # Imported before the generators are seeded: importing Augraphy draws from Python's `random`,
    # so a first page scanned in a process would otherwise differ from the same page later.
    try:
        import augraphy
    except ImportError as exc:
        raise ImportError("the Augraphy scanner needs the augraphy package (pip install augraphy==8.2.6)") from exc

    _compile_noise_kernels()
    level = ScanLevel(level)
    page = cv2.cvtColor(np.asarray(image.convert("RGB"), dtype=np.uint8), cv2.COLOR_RGB2BGR)
    height, width = page.shape[:2]
    xs = np.arange(0, width + _GRID_STEP_X_PX, _GRID_STEP_X_PX, dtype=np.float64)
    ys = np.arange(0, height + _GRID_STEP_Y_PX, _GRID_STEP_Y_PX, dtype=np.float64)
    grid = [[int(x), int(y)] for y in ys for x in xs]

    with _seeded(seed), tempfile.TemporaryDirectory(prefix="nianbao-augraphy-") as tmp, contextlib.chdir(tmp):
        pipeline = _build_pipeline(augraphy, level, width, height)
        pipeline.keypoints = {"grid": grid}
        data = pipeline.augment(page)
    out = data["output"]
    moved = data["keypoints"]["grid"]
    if len(moved) != len(grid):
        raise RuntimeError(f"Augraphy dropped {len(grid) - len(moved)} of the {len(grid)} grid keypoints")
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    dst = np.asarray(moved, dtype=np.float64).reshape(len(ys), len(xs), 2)
    out, dst = _cut_to_size(out[..., :3], dst, width, height)
    if _PERSPECTIVE[level] is not None:
        out, dst = _tilt(out, dst, _PERSPECTIVE[level], seed)
    _log.debug("augraphy scanned page %dx%d at level %s (seed %d)", width, height, level.value, seed)
    rgb = Image.fromarray(cv2.cvtColor(out, cv2.COLOR_BGR2RGB))
    return AugraphyScanResult(image=rgb, warp=GridWarp(xs=xs, ys=ys, dst=dst))


def _tilt(out: np.ndarray, dst: np.ndarray, scale: tuple[float, float], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The scanned page seen in perspective (albumentations' `Perspective`); keypoints follow."""
    try:
        import albumentations
    except ImportError as exc:
        raise ImportError("the Augraphy scanner's hard level needs albumentations (pip install albumentations==2.0.8)") from exc
    tilt = albumentations.Compose(
        [albumentations.Perspective(scale=scale, keep_size=True, fill=_LID_RGB[::-1], p=1.0)],
        keypoint_params=albumentations.KeypointParams(format="xy", remove_invisible=False),
        seed=seed,
    )
    result = tilt(image=out, keypoints=dst.reshape(-1, 2))
    moved = np.asarray(result["keypoints"], dtype=np.float64)
    if moved.shape != (dst.shape[0] * dst.shape[1], 2):
        raise RuntimeError(f"albumentations kept {len(moved)} of the {dst.shape[0] * dst.shape[1]} grid keypoints")
    return np.ascontiguousarray(result["image"]), moved.reshape(dst.shape)


def _extrapolated_index(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Fractional grid index of values beyond a regular grid's ends (linear continuation)."""
    step = grid[1] - grid[0]
    return (values - grid[0]) / step


def _cut_to_size(out: np.ndarray, dst: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut the padded, turned page back to `width` x `height` about its centre; keypoints follow."""
    h, w = out.shape[:2]
    pad_x, pad_y = max(0, width - w), max(0, height - h)
    if pad_x or pad_y:
        # Not expected (the lid margin covers the largest shrink), but a page a few pixels
        # short is given more lid rather than a wrong size.
        out = cv2.copyMakeBorder(out, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=_LID_RGB[::-1])
        dst = dst + np.array([pad_x, pad_y], dtype=np.float64)
        h, w = out.shape[:2]
    x0, y0 = (w - width) // 2, (h - height) // 2
    cut = np.ascontiguousarray(out[y0 : y0 + height, x0 : x0 + width])
    return cut, dst - np.array([x0, y0], dtype=np.float64)


@contextlib.contextmanager
def _seeded(seed: int):
    """Seed Python's, NumPy's global, OpenCV's and numba's generators; restore the first two afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    cv2.setRNGSeed(seed % 2**31)
    _seed_numba(seed % 2**32)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _compile_noise_kernels() -> None:
    """Compile Augraphy's parallel noise kernels once per process, on a small mask, before any page.

    With numba 0.67-0.68 and an empty numba cache, Worley noise (BadPhotoCopy's noise type 4)
    first compiled in the middle of a page's pipeline fails in numba's parfor lowering
    (`AssertionError` in `compile_ir`), while the same kernels compiled on their own, first, work
    and are cached for later processes. Seeding happens after this, so scans do not change.
    """
    global _NOISE_KERNELS_COMPILED
    if _NOISE_KERNELS_COMPILED:
        return
    from augraphy.utilities.noisegenerator import NoiseGenerator

    for noise_type in range(1, 9):
        NoiseGenerator(noise_type=noise_type).generate_noise(
            noise_value=(0, 30),
            noise_background=(0, 1),
            noise_sparsity=(0.4, 0.6),
            noise_concentration=(0.4, 0.6),
            xsize=64,
            ysize=64,
        )
    _NOISE_KERNELS_COMPILED = True


def _seed_numba(seed: int) -> None:
    """Seed the generators numba-compiled code draws from (not Python's or NumPy's: its own).

    Augraphy's compiled helpers (DirtyRollers' scanline masks, for one) call `random` inside
    nopython code, which draws from numba's per-thread state; only a compiled call can seed it.
    """
    global _NUMBA_SEEDER
    if _NUMBA_SEEDER is None:
        import numba

        @numba.njit(cache=False)
        def seeder(value):
            random.seed(value)
            np.random.seed(value)

        _NUMBA_SEEDER = seeder
    _NUMBA_SEEDER(seed)


# The compiled seeding function, made on first use (compiling takes a fraction of a second).
_NUMBA_SEEDER = None
_NOISE_KERNELS_COMPILED = False


def _padding(width: int, height: int, level: ScanLevel) -> list[int]:
    """Lid margin [left, right, top, bottom] so that the turned page's cut never shows a corner.

    Turning a W x H page by a about its centre needs H/2 sin a - W/2 (1 - cos a) more on the
    left and right, W/2 sin a - H/2 (1 - cos a) on top and bottom; a shift and a shrink need
    their own amounts on top of that. A few pixels more cover Augraphy's rounding.
    """
    a = math.radians(_MAX_ROTATION_DEG[level])
    shift = _MAX_SHIFT[level] * width
    shrink = 1.0 - _SCALE[level][0]
    px = height / 2 * math.sin(a) - width / 2 * (1 - math.cos(a)) + shift + shrink * width / 2
    py = width / 2 * math.sin(a) - height / 2 * (1 - math.cos(a)) + shift + shrink * height / 2
    return [math.ceil(px) + 4] * 2 + [math.ceil(py) + 4] * 2


def _one_of(augmentations: list, p: float):
    """One of `augmentations`, drawn now, run with probability `p`.

    Augraphy's own ``OneOf`` cannot carry keypoints in 8.2.6 (the pipeline unpacks its
    (image, augmentations) pair as an (image, mask, keypoints, boxes) tuple), so the choice is
    made here, from the same seeded generator.
    """
    chosen = random.choice(augmentations)
    chosen.p = p
    return chosen


def _build_pipeline(ag, level: ScanLevel, width: int, height: int):
    """The level's Augraphy pipeline, `ag` the imported module (built under the page's seed:
    some choices are drawn here)."""
    if level is ScanLevel.CLEAN:
        ink = [
            ag.InkBleed(intensity_range=(0.1, 0.2), kernel_size=(3, 3), severity=(0.2, 0.3), p=0.3),
        ]
        paper = [
            ag.BrightnessTexturize(texturize_range=(0.95, 0.99), deviation=0.02, p=0.7),
            ag.NoiseTexturize(sigma_range=(2, 4), turbulence_range=(2, 3), p=0.5),
        ]
        post = [
            ag.Brightness(brightness_range=(0.97, 1.03), min_brightness=0, p=0.5),
            ag.SubtleNoise(subtle_range=5, p=0.7),
            ag.Jpeg(quality_range=(85, 95), p=1.0),
        ]
        return ag.AugraphyPipeline(ink_phase=ink, paper_phase=paper, post_phase=post,
                                   paper_color_range=(240, 252))

    hard = level is ScanLevel.HARD
    ink = [
        ag.InkBleed(intensity_range=(0.2, 0.4) if hard else (0.1, 0.3), kernel_size=(3, 3),
                    severity=(0.3, 0.5) if hard else (0.2, 0.4), p=0.6 if hard else 0.4),
        _one_of(
            [
                ag.LowInkRandomLines(count_range=(8, 20) if hard else (3, 8), use_consistent_lines=False,
                                     noise_probability=0.1),
                ag.LowInkPeriodicLines(count_range=(2, 5), period_range=(16, 48), use_consistent_lines=False,
                                       noise_probability=0.1),
            ],
            p=0.7 if hard else 0.4,
        ),
        # Uneven pressure, with the values of Augraphy's default pipeline. On a 200-dpi page of
        # 10-point text its patches hollow out every stroke they touch: a worn print rather than
        # an ordinary archive scan, so hard pages only.
        *([ag.Letterpress(n_samples=(100, 400), n_clusters=(200, 400), std_range=(500, 3000),
                          value_range=(150, 224), value_threshold_range=(96, 128), blur=1, p=0.25)]
          if hard else []),
        ag.BleedThrough(intensity_range=(0.1, 0.3) if hard else (0.05, 0.15), color_range=(64, 224),
                        ksize=(17, 17), sigmaX=1, alpha=random.uniform(0.05, 0.15) if hard else random.uniform(0.03, 0.08),
                        offsets=(10, 20), p=0.5 if hard else 0.3),
    ]
    paper = [
        ag.ColorPaper(hue_range=(20, 45), saturation_range=(5, 25), p=0.3),
        _one_of(
            [
                ag.BrightnessTexturize(texturize_range=(0.85, 0.97) if hard else (0.92, 0.99), deviation=0.04),
                ag.NoiseTexturize(sigma_range=(3, 8) if hard else (2, 5), turbulence_range=(2, 5)),
            ],
            p=0.8,
        ),
    ]
    rotation = _MAX_ROTATION_DEG[level]
    shift = int(round(_MAX_SHIFT[level] * width))
    post = [
        _one_of(
            [
                ag.BadPhotoCopy(noise_type=-1, noise_side="random", noise_iteration=(1, 2), noise_size=(1, 3),
                                noise_value=(128, 200) if hard else (180, 230),
                                noise_sparsity=(0.4, 0.7), noise_concentration=(0.1, 0.4) if hard else (0.05, 0.15),
                                blur_noise=random.choice([True, False]), blur_noise_kernel=(5, 5),
                                wave_pattern=False, edge_effect=random.choice([True, False])),
                ag.DirtyDrum(line_width_range=(1, 4) if hard else (1, 2), line_concentration=random.uniform(0.05, 0.12),
                             direction=random.randint(0, 2), noise_intensity=random.uniform(0.4, 0.8) if hard else 0.3,
                             noise_value=(64, 200) if hard else (150, 230), ksize=(3, 3), sigmaX=0),
                # Streaks over the whole page, dense enough to pass for ruling lines: a badly
                # soiled copier, not an ordinary archive scan, so hard pages only.
                *([ag.DirtyRollers(line_width_range=(2, 32), scanline_type=0)] if hard else []),
                # A fax or a 1-bit archive scan: the page thresholded to black and white, one of
                # the copier's defects rather than on top of them (a dirty drum's grey band
                # thresholded turns black). Augraphy's halftone option as well turned faded hard
                # pages into unreadable dots.
                *([ag.Faxify(scale_range=(1.0, 1.0), monochrome=1, monochrome_method="threshold_otsu",
                             halftone=0, invert=1, half_kernel_size=(1, 1), angle=(0, 0), sigma=(1, 1))]
                  if hard else []),
            ],
            p=0.8 if hard else 0.35,
        ),
        ag.Folding(fold_count=random.randint(1, 2), fold_noise=0.0, fold_angle_range=(-2, 2),
                   gradient_width=(0.05, 0.15), gradient_height=(0.002, 0.006) if hard else (0.001, 0.003),
                   backdrop_color=_LID_RGB[::-1], p=0.3 if hard else 0.1),
        ag.Geometric(
            scale=_SCALE[level],
            translation=(random.randint(-shift, shift), random.randint(-shift, shift)),
            rotate_range=(-rotation, rotation),
            padding=_padding(width, height, level),
            padding_value=_LID_RGB[::-1],
            p=1.0,
        ),
        _one_of(
            [
                ag.LightingGradient(light_position=None, direction=None, max_brightness=255,
                                    min_brightness=170 if hard else 210, mode="gaussian",
                                    linear_decay_rate=None, transparency=None),
                ag.Brightness(brightness_range=(0.85, 1.05) if hard else (0.92, 1.04), min_brightness=0),
                ag.Gamma(gamma_range=(0.8, 1.2) if hard else (0.9, 1.1)),
            ],
            p=0.8 if hard else 0.5,
        ),
        ag.ShadowCast(shadow_side="random", shadow_vertices_range=(2, 6), shadow_width_range=(0.3, 0.6),
                      shadow_height_range=(0.3, 0.6), shadow_color=(0, 0, 0),
                      shadow_opacity_range=(0.2, 0.4), shadow_iterations_range=(1, 1),
                      shadow_blur_kernel_range=(101, 201), p=0.3 if hard else 0.0),
        ag.SubtleNoise(subtle_range=15 if hard else 8, p=0.8),
        ag.Jpeg(quality_range=(40, 60) if hard else (60, 80), p=1.0),
    ]
    return ag.AugraphyPipeline(ink_phase=ink, paper_phase=paper, post_phase=post,
                               paper_color_range=(215, 240) if hard else (228, 248))
