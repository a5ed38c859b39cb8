/**
 * Tensor names and shapes of a synthetic Llama-shaped checkpoint for the benches: TinyLlama-1.1B-like widths
 * (hidden 2048, GQA 32/4 heads so k/v project to 256, MLP 5632, vocab 32000) with a chosen layer count, in
 * the Hugging Face `model.layers.N.*` naming. One list so every bench measures the same model shape.
 */

export const TINYLLAMA_WIDTHS = { hidden: 2048, kv: 256, mlp: 5632, vocab: 32000 } as const;

/** `[name, shape]` pairs in checkpoint order: embedding, `layers` decoder blocks, final norm, LM head. */
export function llamaTensorShapes(layers: number): [string, number[]][] {
  const { hidden, kv, mlp, vocab } = TINYLLAMA_WIDTHS;
  const shapes: [string, number[]][] = [['model.embed_tokens.weight', [vocab, hidden]]];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    shapes.push(
      [`${p}.input_layernorm.weight`, [hidden]],
      [`${p}.self_attn.q_proj.weight`, [hidden, hidden]],
      [`${p}.self_attn.k_proj.weight`, [kv, hidden]],
      [`${p}.self_attn.v_proj.weight`, [kv, hidden]],
      [`${p}.self_attn.o_proj.weight`, [hidden, hidden]],
      [`${p}.post_attention_layernorm.weight`, [hidden]],
      [`${p}.mlp.gate_proj.weight`, [mlp, hidden]],
      [`${p}.mlp.up_proj.weight`, [mlp, hidden]],
      [`${p}.mlp.down_proj.weight`, [hidden, mlp]],
    );
  }
  shapes.push(['model.norm.weight', [hidden]], ['lm_head.weight', [vocab, hidden]]);
  return shapes;
}
