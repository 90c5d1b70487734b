// OpenAI's function-calling shapes (names exactly as OpenAI's API), shared by the engine, the
// worker API and `cli serve`.

/** A JSON Schema object (the tool's parameters); checked by the grammar compiler when a call is forced. */
export type JSONSchema = Record<string, unknown>;

/** One entry of a request's `tools`. */
export interface Tool {
  type: 'function';
  function: {
    name: string;
    description?: string;
    /** JSON Schema of the arguments object; absent means "any object" */
    parameters?: JSONSchema;
    strict?: boolean | null;
  };
}

/**
 * `tool_choice`: 'auto' (default with tools) lets the model decide, 'none' hides the tools from it,
 * 'required' forces at least one call, a named function forces a call of that function.
 */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** A call the model made, as in an assistant message's `tool_calls`. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: {
    name: string;
    /** the arguments as JSON text (OpenAI's wire form, even though it is always an object) */
    arguments: string;
  };
}

/**
 * A streamed piece of `tool_calls` (OpenAI's chunk shape): the first piece of a call has its index,
 * id, type and function.name; later pieces with the same index carry function.arguments fragments,
 * which concatenate to the arguments JSON.
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

/** A call as parsed from model output, before it gets an id. */
export interface ParsedCall {
  name: string;
  /** JSON text of the arguments object */
  arguments: string;
  /** an id the model wrote itself (Mistral's format carries one) */
  id?: string;
}
