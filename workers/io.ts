/** Worker for the io queue. */
import { main } from './main';

main(['io']);
