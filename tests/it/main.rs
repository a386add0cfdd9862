mod webdav;
