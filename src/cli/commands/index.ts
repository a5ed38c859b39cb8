/** The CLI's verbs, in help order. Add a verb by writing commands/<verb>.ts and listing it here. */
import type { Command } from 'commander';
import { registerAnomalyCommand } from './anomaly.js';
import { registerComposeLoraCommand } from './compose-lora.js';
import { registerContinualCommand } from './continual.js';
import { registerDemoCommand } from './demo.js';
import { registerEvalCommand } from './eval.js';
import { registerExtractLoraCommand } from './extract-lora.js';
import { registerInspectCommand } from './inspect.js';
import { registerKinshipCommand } from './kinship.js';
import { registerMergeCommand } from './merge.js';
import { registerEvolveCommand } from './evolve.js';
import { registerRunsCommand } from './runs.js';
import { registerStCommand } from './st.js';
import { registerUiCommand } from './ui.js';
import { registerWorkerCommand } from './worker.js';
import { registerQueueCommand } from './queue.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [registerInspectCommand, registerMergeCommand, registerKinshipCommand, registerEvalCommand, registerEvolveCommand, registerRunsCommand, registerDemoCommand, registerExtractLoraCommand, registerComposeLoraCommand, registerAnomalyCommand, registerContinualCommand, registerStCommand, registerWorkerCommand, registerQueueCommand, registerUiCommand];
