/**
 * The previous tfjs training engine (engines.md §2 and §8), kept only as the reference that tests, benches and
 * scripts compare src/nn against (issue #22; shipped code must not import test/support): tfjs 4.22 with the wasm
 * backend as the old training path, the cpu backend as the reference in tests. The union package is imported
 * because it is the one that registers the gradient functions against tfjs-core's Node build; the wasm backend
 * registers itself on import. The one shipped tfjs user is the Llama evaluator (src/eval/llama-tf.ts).
 */
import { ModelevoError } from '../../../src/core/errors.js';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

export type EngineBackend = 'wasm' | 'cpu';

/** Switches the process (or worker) to `backend`; idempotent. Returns the active backend name. */
export async function useBackend(backend: EngineBackend): Promise<string> {
  // PROD silences the cpu backend's "install tfjs-node" banner (tfjs-node cannot be installed here)
  tf.env().set('PROD', true);
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new ModelevoError('KERNEL_UNAVAILABLE', `tfjs backend '${backend}': expected it to initialise, it did not`, { hint: "try --backend cpu (slower, needs no WebAssembly)", details: { backend } });
  }
  await tf.ready();
  return tf.getBackend();
}
