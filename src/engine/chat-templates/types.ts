/** A built-in chat template used when a model file carries none (or the user picks one by name). */
export interface NamedTemplateSpec {
  name: string;
  /** Jinja source, usually the public template of the model family it is named after. */
  template: string;
  /** End-of-turn text, for models whose vocab does not mark it as an end-of-generation token. */
  stop: readonly string[];
}
