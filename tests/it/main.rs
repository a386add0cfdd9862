mod volume;
