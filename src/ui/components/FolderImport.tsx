// "Import folder": a Hugging Face model folder (config.json, safetensors, tokenizer.json) picked,
// or dropped, and converted on this device to the chosen GGUF type before it is stored; an MLC-LLM
// folder (mlc-chat-config.json, tensor-cache.json, params_shard_*.bin) is stored as it is.
import { useRef, useState } from 'react';
import type { FolderImportType } from '../../worker/api.ts';
import type { Models } from '../hooks/use-models.ts';
import { errorMessage } from '../state/format.ts';
import { folderFromDirectoryHandle, folderFromEntries, folderFromFileList, type PickedFolder } from '../state/folder-pick.ts';

const TYPES: { type: FolderImportType; label: string }[] = [
  { type: 'Q4_K_M', label: 'Q4_K_M (small, default)' }, { type: 'Q8_0', label: 'Q8_0' }, { type: 'Q4_0', label: 'Q4_0' },
  { type: 'Q6_K', label: 'Q6_K' }, { type: 'F16', label: 'F16' }, { type: 'keep', label: 'keep the folder’s types' },
];

type DirPicker = () => Promise<Parameters<typeof folderFromDirectoryHandle>[0]>;

export function FolderImport({ models }: { models: Models }) {
  const [type, setType] = useState<FolderImportType>('Q4_K_M');
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const start = (pick: () => Promise<PickedFolder>): void => {
    setError(null);
    pick().then((f) => models.importFolder(f, type), (e: unknown) => {
      if ((e as Error)?.name !== 'AbortError') setError(errorMessage(e)); // AbortError: the picker was closed
    });
  };
  const choose = (): void => {
    const picker = (window as unknown as { showDirectoryPicker?: DirPicker }).showDirectoryPicker;
    if (picker) start(async () => folderFromDirectoryHandle(await picker()));
    else input.current?.click();
  };
  return (
    <div className={`drop-zone folder-import${over ? ' over' : ''}`} data-testid="folder-drop"
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry()).filter((x) => x !== null);
        start(() => folderFromEntries(entries));
      }}>
      <input ref={input} type="file" hidden multiple data-testid="folder-input" {...{ webkitdirectory: '' }}
        onChange={(e) => { const files = [...(e.target.files ?? [])]; e.target.value = ''; if (files.length) start(async () => folderFromFileList(files)); }} />
      <span>Hugging Face folder (config.json, *.safetensors, tokenizer.json) or MLC folder (mlc-chat-config.json, params_shard_*.bin): drop it here or </span>
      <button type="button" data-testid="folder-import" onClick={choose}>Import folder</button>
      <label> as <select data-testid="folder-type" value={type} onChange={(e) => setType(e.target.value as FolderImportType)}>
        {TYPES.map((t) => <option key={t.type} value={t.type}>{t.label}</option>)}
      </select></label>
      <div className="small muted">Hugging Face folders are converted and quantized on this device (the original is not stored); MLC folders are stored as they are, in their own quantization.</div>
      {error && <div className="error" role="alert">{error}</div>}
    </div>
  );
}
