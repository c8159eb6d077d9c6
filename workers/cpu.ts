/** Worker for the cpu queue. */
import { main } from './main';

main(['cpu']);
