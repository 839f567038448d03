

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


def export_onnx(path, tolerance=1e-4):
    """Writes the model as ONNX (opset 13, any batch size); checks it with onnx.checker and, where
    an ONNX runtime is installed, compares its logits with the reference."""
    model = load()
    reference = torch.load(os.path.join(HERE, "reference.pt"))
    # The exporter's note on prim::Constant shape inference is about its internals, not this model.
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    torch.onnx.export(model, (reference["x"],), path, opset_version=13, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    print("onnx: wrote %s (opset 13, dynamic batch)" % path)
    ok = True
    try:
        import onnx
    except ImportError:
        print("onnx: the onnx package is not installed (Debian: python3-onnx); checker not run")
    else:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print("onnx: onnx.checker passed")
    try:
        import onnxruntime
    except ImportError:
        print("onnx: no ONNX runtime installed; logits not compared")
    else:
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        logits = session.run(None, {"x": reference["x"].numpy()})[0]
        delta = float(abs(torch.from_numpy(logits) - reference["logits"]).max())
        ok = delta <= tolerance
        print("onnx: onnxruntime max |Δlogit| = %.3g (tolerance %g): %s" % (delta, tolerance, "ok" if ok else "FAILED"))
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="run reference.pt through the exported weights; fail if max |Δlogit| > 1e-4")
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
    sys.exit(0 if ok else 1)
