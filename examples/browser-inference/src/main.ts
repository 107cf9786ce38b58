// The page: pick, drop or photograph an image; see the top 5 classes, the latency and the backend.
import {
  classify,
  classifyOnnx,
  heatmapOverlay,
  loadModel,
  loadOnnxEngine,
  useBackend,
  type Classification,
  type LoadedModel,
  type OnnxEngine,
  type RanOn,
} from './classifier';
import * as ort from 'onnxruntime-web';
import type { OnnxClassifier } from 'xception-ts/onnx';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const preview = $<HTMLImageElement>('preview');
const video = $<HTMLVideoElement>('video');
const backendSelect = $<HTMLSelectElement>('backend');
const modelUrl = new URLSearchParams(location.search).get('model') ?? `${import.meta.env.BASE_URL}model/model.json`;

let loaded: LoadedModel;
/** What runs the model now (tfjs backend or ONNX Runtime provider), its wasm threads, and a note (adapter, fallback). */
let backendInfo: RanOn & { threads: number | null } = { device: '', note: null, threads: null };
let busy: Promise<unknown> = Promise.resolve();
/** ONNX Runtime Web, when picked instead of a tfjs backend (tfjs still draws the heatmap). */
let onnx: { engine: OnnxEngine; classifier: OnnxClassifier } | null = null;

function showError(error: unknown): void {
  status.textContent = `Error: ${(error as Error).message ?? String(error)}`;
  status.dataset['state'] = 'error';
}

function show(result: Classification): void {
  const list = $<HTMLOListElement>('top5');
  list.replaceChildren(
    ...result.top5.map((p) => {
      const item = document.createElement('li');
      item.dataset['classIndex'] = String(p.classIndex);
      item.dataset['probability'] = String(p.probability);
      const label = document.createElement('span');
      label.textContent = `${p.label} — ${(p.probability * 100).toFixed(1)}%`;
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = `${Math.max(1, p.probability * 100)}%`;
      item.append(label, bar);
      return item;
    }),
  );
  const threads = backendInfo.threads ? `, ${backendInfo.threads} thread${backendInfo.threads > 1 ? 's' : ''}` : '';
  const provider = onnx ? `, ${backendInfo.device} provider` : '';
  const note = backendInfo.note ? ` — ${backendInfo.note}` : '';
  status.textContent = `${result.latencyMs.toFixed(0)} ms on ${result.backend}${provider}${threads}${crossOriginIsolated ? ' (cross-origin isolated)' : ''}${note}`;
  status.dataset['state'] = 'done';
  status.dataset['latencyMs'] = String(result.latencyMs);
  status.dataset['backend'] = result.backend;
  // What actually ran: tfjs' backend, or ONNX Runtime's provider ('webgpu', or 'wasm' after a fallback).
  status.dataset['device'] = backendInfo.device;
}

/** The pixels of the image being shown, decoded once per file. */
let bitmap: ImageBitmap | null = null;

/** Runs tasks one after another (classifications, backend switches), never two at once. */
function queue(task: () => Promise<void>): Promise<void> {
  const next = busy.then(task).catch(showError);
  busy = next;
  return next;
}

/** Classifies the picked image or the current video frame; call it from a queued task. */
async function classifyNow(source: ImageBitmap | HTMLVideoElement): Promise<void> {
  status.dataset['state'] = 'working';
  status.textContent = 'Classifying…';
  const result = onnx ? await classifyOnnx(onnx.classifier, onnx.engine, source) : await classify(loaded, source);
  show(result);
  // Where the evidence for the top class sits: Grad-CAM, drawn beside the top 5.
  const overlay = heatmapOverlay(loaded, source, result.top5[0]!.classIndex);
  const cam = $<HTMLCanvasElement>('cam');
  cam.width = overlay.width;
  cam.height = overlay.height;
  cam.getContext('2d')!.putImageData(new ImageData(overlay.data, overlay.width, overlay.height), 0, 0);
  cam.hidden = false;
  cam.dataset['classIndex'] = String(result.top5[0]!.classIndex);
}

async function showFile(file: File | undefined): Promise<void> {
  if (!file || !file.type.startsWith('image/')) return showError(new Error('that is not an image file'));
  video.hidden = true;
  preview.hidden = false;
  preview.src = URL.createObjectURL(file);
  // The file's own pixel values, without the colour management an <img> applies for display
  // (an embedded ICC profile would shift them): what Keras/PIL feed the model in Python.
  const decoded = await createImageBitmap(file, { colorSpaceConversion: 'none' });
  await queue(async () => {
    bitmap?.close();
    bitmap = decoded;
    await classifyNow(decoded);
  });
}

$<HTMLInputElement>('file').addEventListener('change', (event) => void showFile((event.target as HTMLInputElement).files?.[0]).catch(showError));
const drop = $<HTMLDivElement>('drop');
drop.addEventListener('dragover', (event) => (event.preventDefault(), drop.classList.add('over')));
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  void showFile(event.dataTransfer?.files[0]).catch(showError);
});
$<HTMLButtonElement>('camera').addEventListener('click', async () => {
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
    await video.play();
    video.hidden = false;
    preview.hidden = true;
    $<HTMLButtonElement>('snap').hidden = false;
  } catch (error) {
    showError(error);
  }
});
$<HTMLButtonElement>('snap').addEventListener('click', () => void queue(() => classifyNow(video)));
backendSelect.addEventListener('change', () => {
  void queue(async () => {
    status.dataset['state'] = 'working';
    status.textContent = `Starting the ${backendSelect.value} backend…`;
    await onnx?.classifier.dispose();
    onnx = null;
    if (backendSelect.value.startsWith('onnx-')) {
      const engine = backendSelect.value as OnnxEngine;
      const { classifier, ranOn } = await loadOnnxEngine(loaded, engine);
      onnx = { engine, classifier };
      backendInfo = { ...ranOn, threads: ranOn.device === 'wasm' ? ort.env.wasm.numThreads ?? 1 : null };
    } else {
      backendInfo = await useBackend(backendSelect.value);
    }
    if (!video.hidden) await classifyNow(video);
    else if (bitmap) await classifyNow(bitmap);
    else (status.textContent = `Backend: ${backendInfo.device}${backendInfo.note ? ` — ${backendInfo.note}` : ''}`), (status.dataset['state'] = 'ready');
  });
});

try {
  backendInfo = await useBackend('wasm');
  loaded = await loadModel(modelUrl);
  if (!loaded.url) {
    const banner = $<HTMLParagraphElement>('banner');
    banner.innerHTML =
      `No converted model at <code>${modelUrl}</code>, so this page runs Xception with <strong>random weights</strong>: ` +
      'its answers mean nothing. Convert the official Keras weights with ' +
      '<code>npx xception-ts convert xception_weights_tf_dim_ordering_tf_kernels.h5 public/model</code> and reload.';
    banner.hidden = false;
  }
  status.textContent = `Ready: ${loaded.url ? 'converted model' : 'random weights'}, ${loaded.inputSize.join('×')} input, ${backendInfo.device}. Pick an image.`;
  status.dataset['state'] = 'ready';
} catch (error) {
  showError(error);
}
