// Runs model.onnx through ONNX Runtime (the npm package onnxruntime-node) on one batch:
//   node onnx_run.mjs MODEL.onnx X.npy LOGITS.npy
// X.npy is the input batch (float32 or int64, C order), LOGITS.npy receives the first output as
// float32. model.py --onnx and --check call it; it prints the runtime's version on success.
// The package is taken from $PARTICLE_ONNXRUNTIME (the folder an `npm install --prefix` went to,
// holding node_modules/onnxruntime-node), else from Node's own search (a node_modules beside or
// above this file, $NODE_PATH). Exit status: 0 ran, 1 the model or a file failed, 3 no runtime.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modelPath, inputPath, outputPath] = process.argv.slice(2);
if (!outputPath) {
  console.error("usage: node onnx_run.mjs MODEL.onnx X.npy LOGITS.npy");
  process.exit(2);
}

const home = process.env.PARTICLE_ONNXRUNTIME;
// createRequire resolves from the folder of the file it is given: node_modules inside `home`.
const require = createRequire(home ? path.join(path.resolve(home), "package.json") : import.meta.url);
let ort;
try {
  ort = require("onnxruntime-node");
} catch (e) {
  console.error(`onnxruntime-node not found (${home ? "PARTICLE_ONNXRUNTIME=" + home : "Node's module search"}): ` +
                e.message.split("\n")[0]);
  process.exit(3);
}

// .npy version 1/2: magic, version, header length, a Python dict literal, then the data.
const kinds = { "<f4": ["float32", Float32Array], "<i8": ["int64", BigInt64Array], "<i4": ["int32", Int32Array] };
function readNpy(file) {
  const bytes = readFileSync(file);
  if (bytes.toString("latin1", 0, 6) !== "\x93NUMPY")
    throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString("latin1", start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1].split(",").filter((s) => s.trim()).map(Number);
  if (/'fortran_order':\s*True/.test(header) || !kinds[descr] || !shape)
    throw new Error(`${file}: a C-order float32, int64 or int32 array is needed (header ${header.trim()})`);
  const [type, Typed] = kinds[descr];
  const data = bytes.subarray(start + headerLength);
  // A copy: the typed array needs its own aligned buffer.
  const values = new Typed(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return new ort.Tensor(type, values, shape);
}

function writeNpy(file, tensor) {
  const values = Float32Array.from(tensor.data, Number);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${tensor.dims.join(", ")}${
    tensor.dims.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((header.length + 10) % 64)) + "\n"; // data starts on a 64-byte boundary
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, "latin1"), Buffer.from(values.buffer)]));
}

try {
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ["cpu"] });
  const results = await session.run({ [session.inputNames[0]]: readNpy(inputPath) });
  writeNpy(outputPath, results[session.outputNames[0]]);
  console.log(`onnxruntime-node ${ort.env.versions?.node ?? "(version unknown)"}`);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
