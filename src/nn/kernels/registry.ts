/** The literal registry of kernel implementations; `KernelsName` in kernels.ts lists the same keys. */
import { UnknownNameError } from '../../core/errors.js';
import type { KernelsName, NnKernels } from './kernels.js';
import { createReferenceKernels } from './reference/index.js';
import { createWasmKernels } from './wasm/index.js';

export const NN_KERNELS: { readonly [name in KernelsName]: (arenaFloats: number) => NnKernels } = {
  reference: (floats) => createReferenceKernels(floats),
  wasm: createWasmKernels,
};

export function createKernels(name: string, arenaFloats: number): NnKernels {
  const factory = (NN_KERNELS as Record<string, ((floats: number) => NnKernels) | undefined>)[name];
  if (!factory) throw new UnknownNameError('kernels', name, Object.keys(NN_KERNELS));
  return factory(arenaFloats);
}
