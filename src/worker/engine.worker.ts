// Entry of the engine Web Worker: exposes EngineService through Comlink.
import * as Comlink from 'comlink';
import { keepErrorCodes } from './comlink-errors.ts';
import { EngineService } from './engine-service.ts';

keepErrorCodes();
Comlink.expose(new EngineService());
