"""What a team lead sees: a report per round, the cost of labels, and when to stop.

* ``records``: one round's facts (picks and reasons, pre-labels and final labels, annotation
  time, metrics), collected after its evaluation and kept as JSON in ``<state_dir>/reports``;
* ``prelabels``: what annotators did to the pre-labels (IoU matching);
* ``timing``: a round's annotation time from the state file and the server's time stamps;
* ``costs``: the annotation cost model, refitted each round; ``unit_costs``: each pool image's
  cost in the round's budget unit (images, boxes, seconds);
* ``saturation`` and ``stopping``: the power-law fit of the learning curve and the
  ``[stop] min_gain`` rule;
* ``charts``, ``thumbnails``, ``page``: the self-contained HTML page; ``views``: the FiftyOne
  saved view ``round-N-picks``; ``build``: all of it for one round (``alod report``, and the
  engine after every evaluated round).
"""
