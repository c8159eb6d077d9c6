/** Worker for every queue in one process: the embedded default. */
import { main } from './main';

main(['all']);
