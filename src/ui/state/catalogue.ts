// The model catalogue (public/models.json): data, not code.

export interface CatalogueEntry {
  id: string;
  name: string;
  url: string;
  /** shipped with the app and precached by the service worker; loaded without storing */
  bundled?: boolean;
  /** bytes, as published; ≈ for display (downloads use the server's Content-Length) */
  size: number;
  /** bytes of RAM to run it at the default context (weights + f32 KV cache + buffers), estimated */
  memory: number;
  license: string;
  licenseUrl?: string;
  /** only when known for sure; the download is then verified */
  sha256?: string;
  description?: string;
}

export async function loadCatalogue(): Promise<CatalogueEntry[]> {
  const res = await fetch(new URL('models.json', document.baseURI));
  if (!res.ok) throw new Error(`The model catalogue could not be loaded (HTTP ${res.status}).`);
  const data = (await res.json()) as { models: CatalogueEntry[] };
  return data.models;
}
