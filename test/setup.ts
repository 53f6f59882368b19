// mocha --require: installs the shared mock engine before any spec imports program code.
import { installMocks } from "./harness";

installMocks();
