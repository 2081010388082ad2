"""The window as people see it: the real ``deepwire`` on an X server with a window
manager, fresh settings, real key presses, clicks and wheel turns.

The offscreen platform lays the window out without a window manager and showed none
of these: opening a project squeezed the canvas to a sliver (and the squeezed layout
was saved and came back), the training curves had no height, and turning the wheel
over the training settings changed them.
"""

import json
import shutil
from pathlib import Path

from tests.realdisplay.xserver import RealApp

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
SQUEEZED = Path(__file__).with_name("squeezed_layout.conf")  # saved by the squeezing version
CANVAS_WIDTH_SHARE = 0.55  # "most of the window", with the Layers and Inspector docks beside
CANVAS_HEIGHT_SHARE = 0.5  # with the Problems tab raised
CANVAS_HEIGHT_SHARE_TRAINING = 0.45  # the Training tab takes more height for its curves
PLOT_MIN_HEIGHT = 60  # pixels of each plot's drawing area: room for a curve


def copy_example(name: str, folder: Path) -> Path:
    """A copy of an example project in ``folder`` (nothing is written beside the examples)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(EXAMPLES / name, folder / name))


def centre(rect) -> tuple[int, int]:
    x, y, width, height = rect
    return x + width // 2, y + height // 2


def assert_canvas_has_room(report: dict, height_share: float = CANVAS_HEIGHT_SHARE) -> None:
    _, _, width, height = report["window"]
    _, _, canvas_width, canvas_height = report["canvas"]
    assert canvas_width >= CANVAS_WIDTH_SHARE * width, report
    assert canvas_height >= height_share * height, report


def shown(app: RealApp, path: Path | None) -> dict:
    """Wait until the window shows ``path`` (None: a new project) and has settled."""

    def showing(report) -> bool:
        shown_path = report["document"]["path"]
        same = shown_path is None if path is None else shown_path and Path(shown_path) == path
        return bool(same) and report["window"][2] > 0 and report["modal"] is None

    return app.settled(showing, f"the window showing {path or 'a new project'}")


def open_through_the_dialog(app: RealApp, path: Path) -> None:
    """File > Open by its key, type the name of ``path`` (the dialog opens in the folder
    of the project shown), press Return."""
    app.key("ctrl+o")
    app.wait_for(lambda r: r["modal"] == "Open project", "the Open dialog")
    # Qt's own file dialog empties the field when Return meets its completer's popup
    # over a typed absolute path; a name is taken, and a second try covers a slow popup
    for _ in range(3):
        app.key("ctrl+a")
        app.type(path.name)
        app.settled(lambda r: True, "the typed path")
        app.key("Return")
        if app.settled(lambda r: True, "the Open dialog's answer")["modal"] is None:
            return
    raise AssertionError("the Open dialog did not take the typed path")


def test_the_canvas_keeps_most_of_the_window_at_launch_open_new_and_next_launch(launch, tmp_path):
    project = copy_example("digits_cnn.dwire", tmp_path / "projects")
    other = copy_example("digits_resnet.dwire", tmp_path / "projects")
    app = launch(project)
    report = shown(app, project)
    assert_canvas_has_room(report)

    x, y, _, _ = report["canvas"]
    app.click(x + 8, y + 8)  # focus the window, as a user's first click does
    open_through_the_dialog(app, other)
    assert_canvas_has_room(shown(app, other))

    app.key("ctrl+n")
    app.wait_for(lambda r: r["modal"] == "New project", "the New dialog")
    app.key("Return")  # "Empty network"
    assert_canvas_has_room(shown(app, None))
    assert app.quit() == 0

    again = launch(project, home=app.home)  # the layout saved at quit comes back
    assert_canvas_has_room(shown(again, project))


def test_squeezed_saved_layout_dropped_curves_have_height_wheel_edits_nothing(launch, tmp_path):
    project = copy_example("digits_cnn.dwire", tmp_path / "projects")
    home = tmp_path / "home"
    (home / ".config" / "Deepwire").mkdir(parents=True)
    shutil.copy(SQUEEZED, home / ".config" / "Deepwire" / "Deepwire.conf")
    app = launch(project, home=home)
    report = shown(app, project)
    assert_canvas_has_room(report)

    app.click(*centre(report["dock_tabs"]["Training"]))
    report = app.settled(lambda r: r["docks"]["training"][3] > 0, "the Training tab")
    assert len(report["plots"]["heights"]) == 3, report["plots"]
    assert min(report["plots"]["heights"]) >= PLOT_MIN_HEIGHT, report["plots"]
    assert_canvas_has_room(report, CANVAS_HEIGHT_SHARE_TRAINING)

    # a wheel turn over a spin box of the settings scrolls, it must not edit the project
    spin = report["spin_boxes"][0]  # the validation split, in the visible part
    before = report["document"]
    app.wheel(*centre(spin["rect"]), notches=3)
    app.wheel(*centre(spin["rect"]), notches=5, up=False)
    after = app.settled(lambda r: True, "the wheel turns")["document"]
    assert after["dataset"] == before["dataset"]
    assert after["training"] == before["training"]
    assert not after["modified"]


def test_a_gan_trains_to_its_end_with_room_for_its_live_view(launch, tmp_path):
    data = json.loads((EXAMPLES / "gan_rings.dwire").read_text())
    data["dataset"]["params"]["n_samples"] = 256  # a run of a few seconds
    data["training"].update(epochs=3, batch_size=64)
    project = tmp_path / "projects" / "gan_rings.dwire"
    project.parent.mkdir()
    project.write_text(json.dumps(data))
    app = launch(project)
    report = shown(app, project)
    app.click(*centre(report["dock_tabs"]["Training"]))
    report = app.settled(lambda r: "gan" in r["run"], "the Training tab with the GAN's view")
    app.click(*centre(report["run"]["train_button"]))
    ended = ("finished", "failed", "stopped")
    report = app.wait_for(lambda r: r["run"]["status"].startswith(ended), "the end of the run")
    assert report["run"]["status"] == "finished after 3 epoch(s)", report["run"]
    assert not report["run"]["error"]
    gan = app.settled(lambda r: r["run"]["gan"]["epoch"] == 3, "the last epoch drawn")["run"]["gan"]
    assert gan["mode"] == "points"
    assert min(gan["space"]) >= PLOT_MIN_HEIGHT, gan  # the plane, kept square
    assert min(gan["heights"]) >= PLOT_MIN_HEIGHT, gan  # the losses and D(real), D(fake)
