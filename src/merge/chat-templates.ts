/**
 * The built-in chat templates a mergekit config may name with `chat_template:` (`chatml`, `alpaca`, `llama3`,
 * `mistral`, `exaone`), written here from each format's public definition, plus `auto` (the template most
 * common among the input models, as mergekit picks it) and a literal Jinja template. The chosen template is
 * written as `chat_template.jinja`, which transformers reads beside the tokenizer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';

export const BUILTIN_CHAT_TEMPLATES = {
  // <|im_start|>role\ncontent<|im_end|>\n per message
  chatml:
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  // the Stanford Alpaca prompt: optional system text, then ### Instruction / ### Input / ### Response blocks
  alpaca:
    "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] | trim }}\\n\\n" +
    "{% elif message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] | trim }}\\n\\n" +
    "{% elif message['role'] == 'user_context' %}{{ '### Input:\\n' + message['content'] | trim }}\\n\\n" +
    "{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] | trim }}\\n\\n{% endif %}{% endfor %}" +
    "{% if add_generation_prompt and messages[-1]['role'] != 'assistant' %}{{ '### Response:\\n' }}{% endif %}",
  // Llama 3: a header per turn, each turn closed by <|eot_id|>
  llama3:
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
  // Mistral instruct: [INST] user [/INST] answer</s>, an optional system message folded into the first turn
  mistral:
    "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] + '\\n\\n' %}{% set turns = messages[1:] %}{% else %}{% set system = '' %}{% set turns = messages %}{% endif %}" +
    "{{ bos_token }}{% for message in turns %}{% if message['role'] == 'user' %}{{ ' [INST] ' + (system if loop.first else '') + message['content'] + ' [/INST]' }}" +
    "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}",
  // EXAONE: [|role|]content, user turns end with a newline, others with [|endofturn|]; an empty system turn first
  exaone:
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}{{ '[|system|][|endofturn|]\\n' }}{% endif %}" +
    "{{ '[|' + message['role'] + '|]' + message['content'] }}{% if message['role'] == 'user' %}{{ '\\n' }}{% else %}{{ '[|endofturn|]\\n' }}{% endif %}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '[|assistant|]' }}{% endif %}",
} as const;

export type BuiltinChatTemplate = keyof typeof BUILTIN_CHAT_TEMPLATES;

/** A model folder's own chat template: chat_template.jinja, else tokenizer_config.json's `chat_template` string. */
export function folderChatTemplate(folder: string): string | undefined {
  const jinja = join(folder, 'chat_template.jinja');
  if (existsSync(jinja)) return readFileSync(jinja, 'utf8');
  const configPath = join(folder, 'tokenizer_config.json');
  if (!existsSync(configPath)) return undefined;
  const template = (JSON.parse(readFileSync(configPath, 'utf8')) as { chat_template?: unknown }).chat_template;
  return typeof template === 'string' ? template : undefined;
}

/**
 * The template text for a `chat_template` value, or undefined for none. `auto` takes the template most common
 * among the input folders (ties: the first seen), none when no input has one.
 */
export function resolveChatTemplate(value: string | undefined, inputFolders: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  if (value === 'auto') {
    const counts = new Map<string, number>();
    for (const folder of inputFolders) {
      const template = folderChatTemplate(folder);
      if (template !== undefined) counts.set(template, (counts.get(template) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [template, count] of counts) if (best === undefined || count > counts.get(best)!) best = template;
    return best;
  }
  if (Object.prototype.hasOwnProperty.call(BUILTIN_CHAT_TEMPLATES, value)) return BUILTIN_CHAT_TEMPLATES[value as BuiltinChatTemplate];
  if (value.includes('{{') || value.includes('{%')) return value;
  throw new ConfigError(
    [{ path: ['chat_template'], message: `unknown chat template '${value}'; expected auto, ${Object.keys(BUILTIN_CHAT_TEMPLATES).join(', ')} or a Jinja template` }],
    { hint: 'name a built-in template or give the Jinja text itself' },
  );
}
