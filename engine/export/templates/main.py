

def load(weights=os.path.join(HERE, "weights.pt"), device="cpu"):
    """The model with the exported weights, in evaluation mode."""
    model = ParticleModel()
    model.load_state_dict(torch.load(weights, map_location=device))
    return model.to(device).eval()


def check(tolerance=1e-4):
    """Runs the reference batch that Particle Studio saved with its own logits for it."""
    model = load()
    reference = torch.load(os.path.join(HERE, "reference.pt"))
    with torch.no_grad():
        logits = model(reference["x"])
    delta = (logits - reference["logits"]).abs().max().item()
    same = (logits.argmax(1) == reference["logits"].argmax(1)).float().mean().item()
    ok = delta <= tolerance
    print("check: %d reference samples, max |Δlogit| = %.3g (tolerance %g), same predicted class for %.0f%%: %s"
          % (logits.shape[0], delta, tolerance, 100 * same, "ok" if ok else "FAILED"))
    return ok


ONNX_RUNTIME_INSTALL = ("npm install --ignore-scripts --prefix DIR onnxruntime-node, then PARTICLE_ONNXRUNTIME=DIR "
                        "(Particle Studio's scripts/setup.sh puts it in .deps/onnxruntime of its checkout)")


def run_onnx(path, x):
    """Runs model.onnx on the batch x with ONNX Runtime: the onnxruntime Python package where it is
    installed, else the npm package onnxruntime-node through onnx_run.mjs (beside this file; the
    package from $PARTICLE_ONNXRUNTIME). Returns (logits, runtime), or (None, why) when there is no
    runtime; raises RuntimeError naming the file when the runtime cannot run it."""
    try:
        import onnxruntime
    except ImportError:
        pass
    else:
        try:
            session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            return torch.from_numpy(session.run(None, {"x": x.numpy()})[0]), "onnxruntime " + onnxruntime.__version__
        except Exception as e:
            raise RuntimeError("%s: ONNX Runtime could not run it: %s" % (path, e))
    import shutil
    import subprocess
    import tempfile
    import numpy
    node = os.environ.get("PARTICLE_NODE") or shutil.which("node") or shutil.which("nodejs")
    if not node:
        return None, "no Node.js for onnxruntime-node (Debian: apt-get install nodejs)"
    with tempfile.TemporaryDirectory() as work:
        numpy.save(os.path.join(work, "x.npy"), x.numpy())
        run = subprocess.run([node, os.path.join(HERE, "onnx_run.mjs"), path, os.path.join(work, "x.npy"),
                              os.path.join(work, "logits.npy")], capture_output=True, text=True)
        if run.returncode == 3:
            return None, run.stderr.strip()
        if run.returncode != 0:
            raise RuntimeError("%s: ONNX Runtime could not run it: %s" % (path, (run.stderr or run.stdout).strip()))
        return torch.from_numpy(numpy.load(os.path.join(work, "logits.npy"))), run.stdout.strip()


def check_onnx(path, tolerance=1e-4):
    """Runs the reference batch through model.onnx with ONNX Runtime and compares its logits with
    Particle Studio's. Without a runtime it says so with the install command, and does not fail."""
    reference = torch.load(os.path.join(HERE, "reference.pt"))
    try:
        logits, runtime = run_onnx(path, reference["x"])
    except RuntimeError as e:
        print("onnx: FAILED: %s" % e)
        return False
    if logits is None:
        print("onnx: SKIPPED, logits not compared: no ONNX Runtime (%s). Install: %s" % (runtime, ONNX_RUNTIME_INSTALL))
        return True
    if logits.shape != reference["logits"].shape:
        print("onnx: FAILED: %s gives logits of shape %s, the reference %s"
              % (path, list(logits.shape), list(reference["logits"].shape)))
        return False
    delta = (logits - reference["logits"]).abs().max().item()
    ok = delta <= tolerance
    print("onnx: %s ran %s on %d reference samples, max |Δlogit| = %.3g (tolerance %g): %s"
          % (runtime, path, logits.shape[0], delta, tolerance, "ok" if ok else "FAILED"))
    return ok


def export_onnx(path):
    """Writes the model as ONNX (opset 13, any batch size); checks it with onnx.checker and runs it
    with ONNX Runtime on the reference batch (check_onnx)."""
    model = load()
    reference = torch.load(os.path.join(HERE, "reference.pt"))
    # The exporter's note on prim::Constant shape inference is about its internals, not this model.
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    # A TorchScript node's module is only traced as part of a traced module (torch.onnx.export of
    # the plain module refuses it as "not part of the active trace").
    if any(isinstance(m, torch.jit.ScriptModule) for m in model.modules()):
        model = torch.jit.trace(model, (reference["x"],))
        warnings.filterwarnings("ignore", message=".*skipping _decide_input_format")
    torch.onnx.export(model, (reference["x"],), path, opset_version=13, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    print("onnx: wrote %s (opset 13, dynamic batch)" % path)
    try:
        import onnx
    except ImportError:
        print("onnx: the onnx package is not installed (Debian: python3-onnx); checker not run")
    else:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print("onnx: onnx.checker passed")
    return check_onnx(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="run reference.pt through the exported weights (and model.onnx, where there is one, through "
                             "ONNX Runtime); fail if max |Δlogit| > 1e-4")
    parser.add_argument("--onnx", metavar="PATH", nargs="?", const=os.path.join(HERE, "model.onnx"),
                        help="write the model as ONNX (default: model.onnx beside this file)")
    args = parser.parse_args()
    if not (args.check or args.onnx):
        print(load())
        sys.exit(0)
    ok = True
    if args.check:
        ok = check() and ok
    if args.onnx:
        ok = export_onnx(args.onnx) and ok
    elif args.check and os.path.exists(os.path.join(HERE, "model.onnx")):
        ok = check_onnx(os.path.join(HERE, "model.onnx")) and ok
    sys.exit(0 if ok else 1)
