// piscina task: hash a batch of int64 keys in a worker thread.
import { loadNative } from '../../dist/core/native.js';

const native = loadNative();
export default (keys) => native.hashInt64(keys);
