/** Worker for the pipeline queue. */
import { main } from './main';

main(['pipeline']);
