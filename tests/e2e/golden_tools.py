#!/usr/bin/python3
"""Helpers for make_goldens.sh (regeneration only; tests never run Python).

  golden_tools.py trim FILE.safetensors --max-elements N
      replaces grad.* and param.* tensors with more than N elements by a
      sample of 256 elements and 4 statistics (see SAMPLES), so the goldens
      of the big example models stay small and those tensors are still checked.
  golden_tools.py schedules --out schedules.json
      the learning rate PyTorch's schedulers give in epochs 0..11.
  golden_tools.py coverage MODEL.json...
      lists ops, attributes, losses and optimizer settings of
      spec/model-format.md that no given model uses (exit 1 if any).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torchref  # noqa: E402  (the repository's copy)


# A trimmed tensor is replaced by summaries that `gradc compare` checks (docs/testing.md):
#   <name>#sample  its elements at SAMPLES fixed indices (k * 2654435761) mod n, k = 0..SAMPLES-1
#   <name>#stats   [sum, sum of |x|, L2 norm, max |x|] of the whole tensor
SAMPLES = 256


def summaries(name, v):
    flat = np.asarray(v, dtype=np.float64).reshape(-1)
    idx = [(k * 2654435761) % flat.size for k in range(SAMPLES)]
    stats = [flat.sum(), np.abs(flat).sum(), np.sqrt((flat * flat).sum()), np.abs(flat).max()]
    return {name + "#sample": flat[idx].astype(np.float32),
            name + "#stats": np.array(stats, dtype=np.float32)}


def cmd_trim(a):
    tensors = torchref.load_st(a.file)
    keep = {k: v for k, v in tensors.items()
            if not (k.startswith(("grad.", "param.")) and v.size > a.max_elements)}
    dropped = sorted(set(tensors) - set(keep))
    for name in dropped:
        keep.update(summaries(name, tensors[name]))
    if dropped:
        torchref.save_st(a.file, keep)
        print(f"  trimmed {', '.join(dropped)} (kept {SAMPLES} samples and 4 statistics each)")


SCHEDULES = {
    "step": {"op": "step", "step_size": 3, "gamma": 0.5},
    "exponential": {"op": "exponential", "gamma": 0.9},
    "cosine": {"op": "cosine", "t_max": 5, "eta_min": 0.01},
}


def schedule_lrs(spec, base_lr, epochs):
    import torch
    sched_spec = {"optimizer": {"schedule": spec}}
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)

    class Holder:
        pass
    holder = Holder()
    holder.spec = sched_spec
    sched = torchref.make_scheduler(holder, opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def cmd_schedules(a):
    out = {"base_lr": 0.1, "epochs": 12, "schedules": []}
    for name, spec in SCHEDULES.items():
        out["schedules"].append({"name": name, "schedule": spec,
                                 "lr": schedule_lrs(spec, 0.1, 12)})
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


# Everything spec/model-format.md allows, as "what" -> description.
WANTED = (
    ["op:" + o for o in ("linear", "conv2d", "maxpool2d", "avgpool2d", "flatten", "reshape",
                         "identity", "sigmoid", "relu", "tanh", "leaky_relu", "softmax",
                         "log_softmax", "add", "sub", "mul")]
    + ["linear.bias=false", "conv2d.bias=false", "leaky_relu.slope", "softmax.axis",
       "log_softmax.axis", "softmax.axis<>-1", "reshape.-1"]
    + [f"{op}.{k}:{form}" for op in ("conv2d",) for k in ("kernel", "stride", "padding",
                                                          "dilation") for form in ("int", "pair")]
    + [f"{op}.{k}:{form}" for op in ("maxpool2d", "avgpool2d") for k in ("kernel", "stride",
                                                                         "padding")
       for form in ("int", "pair")]
    + ["pool.overlap", "input.dtype", "dims.named", "layer.default_name", "layer.input",
       "layer.inputs", "output.input", "output.intermediate", "outputs>=2", "no_loss"]
    + ["loss:" + l for l in ("mse", "mae", "rmse", "cross_entropy", "bce_with_logits")]
    + ["opt:default", "sgd.plain", "sgd.momentum", "sgd.nesterov", "sgd.dampening",
       "sgd.weight_decay", "adam.default", "adam.lr", "adam.betas", "adam.eps",
       "adam.weight_decay", "schedule:step", "schedule:exponential", "schedule:cosine"]
    + ["batch:3", "batch:5", "batch:7"]
)


def form(v):
    return "pair" if isinstance(v, list) else "int"


def features(spec):
    got = set()
    dims = spec.get("dims", {})
    got.update(f"batch:{v}" for v in dims.values())
    if len(dims) > 1:
        got.add("dims.named")
    if any("dtype" in v for v in spec["inputs"].values()):
        got.add("input.dtype")
    names = set()
    for layer in spec["layers"]:
        op = layer["op"]
        got.add("op:" + op)
        names.add(layer.get("name"))
        if "name" not in layer:
            got.add("layer.default_name")
        got.update(k for k in ("layer.input", "layer.inputs") if k.split(".")[1] in layer)
        if layer.get("bias") is False:
            got.add(op + ".bias=false")
        for k in ("slope", "axis"):
            if k in layer:
                got.add(f"{op}.{k}")
        if op == "softmax" and layer.get("axis", -1) != -1:
            got.add("softmax.axis<>-1")
        if op == "reshape" and -1 in layer["shape"]:
            got.add("reshape.-1")
        for k in ("kernel", "stride", "padding", "dilation"):
            if k in layer:
                got.add(f"{op}.{k}:{form(layer[k])}")
        if op.endswith("pool2d") and "stride" in layer:
            k, s = layer["kernel"], layer["stride"]
            k = k if isinstance(k, list) else [k, k]
            s = s if isinstance(s, list) else [s, s]
            if s[0] < k[0] or s[1] < k[1]:
                got.add("pool.overlap")
    outs = spec["outputs"]
    if len(outs) >= 2:
        got.add("outputs>=2")
    if any(o in spec["inputs"] for o in outs):
        got.add("output.input")
    last = spec["layers"][-1].get("name")
    if any(o in names and o != last for o in outs):
        got.add("output.intermediate")
    if "loss" in spec:
        got.add("loss:" + spec["loss"]["op"])
    else:
        got.add("no_loss")
        return got
    opt = spec.get("optimizer")
    if opt is None:
        got.add("opt:default")
        return got
    keys = set(opt) - {"op", "lr", "schedule"}
    if opt["op"] == "sgd" and not keys:
        got.add("sgd.plain")
    if opt["op"] == "adam" and not (keys | ({"lr"} & set(opt))):
        got.add("adam.default")
    got.update(f"{opt['op']}.{k}" for k in set(opt) - {"op", "schedule"})
    if "schedule" in opt:
        got.add("schedule:" + opt["schedule"]["op"])
    return got


def cmd_coverage(a):
    got = set()
    for path in a.models:
        with open(path) as f:
            got |= features(json.load(f))
    missing = [w for w in WANTED if w not in got]
    print(f"{len(WANTED) - len(missing)} of {len(WANTED)} features covered")
    for w in missing:
        print(f"  not covered: {w}")
    sys.exit(1 if missing else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("trim")
    t.add_argument("file")
    t.add_argument("--max-elements", type=int, required=True)
    s = sub.add_parser("schedules")
    s.add_argument("--out", required=True)
    c = sub.add_parser("coverage")
    c.add_argument("models", nargs="+")
    a = p.parse_args()
    {"trim": cmd_trim, "schedules": cmd_schedules, "coverage": cmd_coverage}[a.cmd](a)


if __name__ == "__main__":
    main()
