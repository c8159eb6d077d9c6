/** Worker for the gpu queue. */
import { main } from './main';

main(['gpu']);
