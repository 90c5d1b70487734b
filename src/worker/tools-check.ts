// The app checks a chat's tools as the user types them, with the engine's own checks (each
// parameters schema compiled to a grammar), so a malformed tool shows beside the box, worded as the
// worker would word it, before anything is sent. Pure and cheap: no tokenizer, no model.
import { checkToolChoice, checkTools } from '../engine/tools/index.ts';
import { isEngineError, type EngineError } from '../shared/errors.ts';
import type { Tool, ToolChoice } from './api.ts';

export type ToolsCheckResult =
  | { ok: true; tools: Tool[]; choice: ToolChoice }
  /** param: the request field at fault (tools[1].function.parameters …), as the server's 400 names it */
  | { ok: false; error: EngineError; param: string };

/** The tools and tool_choice this engine would take, or the TOOLS error it would answer with. */
export function checkToolsRequest(tools: unknown, choice: unknown): ToolsCheckResult {
  try {
    const checked = checkTools(tools);
    return { ok: true, tools: checked, choice: checkToolChoice(choice, checked) };
  } catch (e) {
    if (isEngineError(e)) return { ok: false, error: e, param: (e as EngineError & { param?: string }).param ?? 'tools' };
    throw e;
  }
}
