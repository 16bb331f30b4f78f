// Alliance's own script. Pages work without it; it only adds conveniences. No inline script
// anywhere: the Content-Security-Policy forbids it.
"use strict";
